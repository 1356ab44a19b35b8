// One entry for every file format: gzip is undone when the bytes say so, then the format is taken from
// the file name (.csv .tsv .txt, .npy, .idx / -ubyte, with or without .gz) or, for other names, from the
// first bytes (NPY's and IDX's magic numbers; anything else is read as CSV).
import { DatasetError } from '../errors.js';
import { ByteInput } from './byte-input.js';
import { decodeCsv } from './csv.js';
import { decodeIdx, isIdx } from './idx.js';
import { decodeNpy, isNpy } from './npy.js';
import { decompressed, GzipError } from './source.js';
import type { DecodeOptions, FileFormat, RowConsumer } from './types.js';

export type { ArrayMeta, DecodeOptions, FileFormat, RowConsumer, ValueBlock } from './types.js';

export function formatFromName(filename: string): FileFormat | undefined {
  const name = filename.toLowerCase().replace(/\.gz$/, '');
  if (/\.(csv|tsv|txt)$/.test(name)) return 'csv';
  if (name.endsWith('.npy')) return 'npy';
  if (/(\.idx\d?|-ubyte|\.ubyte)$/.test(name)) return 'idx';
  return undefined;
}

export interface DecodedFile {
  format: FileFormat;
  gzip: boolean;
}

export interface DecodeFileOptions extends DecodeOptions {
  /** Used to pick the format; absent or unrecognised: the first bytes decide. */
  filename?: string;
  /** Forces the format (a text/csv body). */
  format?: FileFormat;
}

/**
 * Decodes one file into `consumer`. Errors are DatasetErrors whose field locates the problem in the file
 * ("byte 16", "line 3, column \"iq\"", "header"); offsets count the decompressed bytes of a gzip file.
 */
export async function decodeFile(
  chunks: AsyncIterable<Uint8Array>,
  options: DecodeFileOptions,
  consumer: RowConsumer,
): Promise<DecodedFile> {
  const { gzip, chunks: bytes } = await decompressed(chunks);
  const input = new ByteInput(bytes);
  try {
    await input.fill(8);
    const head = input.peek();
    const format = options.format ?? (options.filename ? formatFromName(options.filename) : undefined) ?? (isNpy(head) ? 'npy' : isIdx(head) ? 'idx' : 'csv');
    if (format === 'npy') await decodeNpy(input, options, consumer);
    else if (format === 'idx') await decodeIdx(input, options, consumer);
    else await decodeCsv(input, options, consumer);
    return { format, gzip };
  } catch (err) {
    if (err instanceof GzipError) throw new DatasetError(`byte ${input.offset} of the gunzipped data`, err.message);
    if (gzip && err instanceof DatasetError && err.field.startsWith('byte ')) throw err.at(`${err.field} of the gunzipped data`);
    throw err;
  }
}
