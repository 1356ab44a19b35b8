// Reading rows out of a part's typed arrays, with its scale applied.
import type { DatasetPart } from '../schemas/dataset.js';
import type { PartReader } from '../store/store.js';

/** Rows [from, to) as a part of their own (views, no copy). */
export function slicePart(part: DatasetPart, from: number, to: number): DatasetPart {
  const d = part.features;
  return { rows: to - from, features: d, x: part.x.subarray(from * d, to * d), scale: part.scale, y: part.y.subarray(from, to) };
}

/** Feature values of rows [from, to) as float32, row-major: a view when nothing needs converting. */
export function featuresFloat32(part: DatasetPart, from = 0, to = part.rows): Float32Array {
  const src = part.x.subarray(from * part.features, to * part.features);
  if (src instanceof Float32Array && part.scale === 1) return src;
  const out = new Float32Array(src.length);
  const scale = part.scale;
  for (let k = 0; k < src.length; k++) out[k] = src[k] * scale;
  return out;
}

/** Feature values of rows [from, to) as arrays of numbers (what an inference engine's predict takes). */
export function featureRows(part: DatasetPart, from = 0, to = part.rows): number[][] {
  const { features: d, x, scale } = part;
  const rows: number[][] = new Array(to - from);
  for (let i = from; i < to; i++) {
    const row = new Array<number>(d);
    for (let j = 0, k = i * d; j < d; j++, k++) row[j] = x[k] * scale;
    rows[i - from] = row;
  }
  return rows;
}

/** A part from rows already known to be valid (see validateDatasetRows for untrusted ones). */
export function partFromRows(features: readonly (readonly number[])[], labels: ArrayLike<number>): DatasetPart {
  const rows = features.length;
  const d = rows > 0 ? features[0].length : 0;
  const x = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) x.set(features[i], i * d);
  return { rows, features: d, x, scale: 1, y: Float32Array.from(labels) };
}

/** Bytes a part takes as stored: its features in their own type, float32 labels. */
export function storedBytes(part: Pick<DatasetPart, 'rows' | 'features' | 'x'>): number {
  return part.rows * part.features * part.x.BYTES_PER_ELEMENT + part.rows * 4;
}

/** A PartReader over rows already in memory (built-in datasets, datasets stored as JSON rows). */
export function memoryPartReader(part: DatasetPart): PartReader {
  return {
    rows: part.rows,
    features: part.features,
    read: async (from, to) => slicePart(part, from, to),
    close: async () => undefined,
  };
}
