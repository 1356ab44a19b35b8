// Runs a file decoder over bytes fed in chunks of a chosen size, collecting what it hands on.
import { decodeFile, type ArrayMeta, type DecodeFileOptions, type FileFormat } from '../../src/datasets/formats/index.js';

export interface Decoded {
  meta: ArrayMeta;
  format: FileFormat;
  gzip: boolean;
  rows: number;
  /** every value, row-major */
  values: number[];
  labels: number[];
  /** the value blocks' type */
  uint8: boolean;
}

export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

export async function decodeBytes(bytes: Uint8Array | string, options: Partial<DecodeFileOptions> = {}, chunkSize = 65536): Promise<Decoded> {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  let meta: ArrayMeta | undefined;
  const out = { rows: 0, values: [] as number[], labels: [] as number[], uint8: false };
  const { format, gzip } = await decodeFile(
    chunked(data, chunkSize),
    { limits: { maxRows: 1_000_000, maxFeatures: 10_000 }, ...options },
    {
      begin(m) {
        meta = m;
      },
      async rows(values, n, labels) {
        out.uint8 = values instanceof Uint8Array;
        out.rows += n;
        out.values.push(...values.subarray(0, n * meta!.width));
        if (labels) out.labels.push(...labels.subarray(0, n));
      },
    },
  );
  return { meta: meta!, format, gzip, ...out };
}

/** Rows of a decoded array. */
export function rowsOf(d: Decoded): number[][] {
  const w = d.meta.width;
  return Array.from({ length: d.rows }, (_, i) => d.values.slice(i * w, (i + 1) * w));
}
