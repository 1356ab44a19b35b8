// The bytes of an uploaded file: counted against a limit as they arrive, and gunzipped (node:zlib) when
// they start with gzip's magic number, whatever the file is called.
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

const GZIP_MAGIC = [0x1f, 0x8b];

/** The stream's chunks; `onBytes` sees each chunk's size first and may throw to stop the upload. */
export async function* counted(chunks: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    onBytes(chunk.length);
    yield chunk;
  }
}

export interface Decompressed {
  gzip: boolean;
  chunks: AsyncIterable<Uint8Array>;
}

/** Peeks at the first bytes: a gzip stream is decompressed, anything else passes as it is. */
export async function decompressed(chunks: AsyncIterable<Uint8Array>): Promise<Decompressed> {
  const it = chunks[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < GZIP_MAGIC.length) {
    const next = await it.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
    have += next.value.length;
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* head;
    if (done) return;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const first = Buffer.concat(head);
  const gzip = first.length >= 2 && first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1];
  if (!gzip) return { gzip, chunks: all() };
  // pipeline, not pipe: an error of the source (a limit, a broken connection) must end the gunzip stream too.
  const gunzip = createGunzip();
  // The callback has nothing to do: pipeline destroys gunzip with the error, and its reader below throws it.
  pipeline(Readable.from(all(), { objectMode: false }), gunzip, () => undefined);
  return { gzip, chunks: gunzipped(gunzip) };
}

/** zlib's errors ("unexpected end of file", "incorrect header check") say the gzip stream is broken. */
export class GzipError extends Error {
  override name = 'GzipError';
}

async function* gunzipped(gunzip: ReturnType<typeof createGunzip>): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    if (err instanceof Error && 'errno' in err && (err as NodeJS.ErrnoException).code?.startsWith('Z_')) {
      throw new GzipError(`the gzip data is damaged: ${err.message}`);
    }
    throw err;
  } finally {
    gunzip.destroy();
  }
}
