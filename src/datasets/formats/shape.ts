// Rows and values per row of an array a binary file declares: the first dimension is the rows, the others
// are flattened in row-major order (28 x 28 images become 784 features).
import { DatasetError } from '../errors.js';
import type { DatasetLimits } from '../validate.js';

export function shapeText(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

export function checkShape(shape: readonly number[], limits: DatasetLimits, field: string): { rows: number; width: number } {
  if (shape.length === 0) throw new DatasetError(field, 'the array is a scalar (shape ()); a dataset needs one row per sample');
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new DatasetError(field, `the shape ${shapeText(shape)} is invalid`);
  const rows = shape[0];
  const width = shape.slice(1).reduce((a, b) => a * b, 1);
  if (rows === 0) throw new DatasetError(field, `the array has no rows (shape ${shapeText(shape)})`);
  if (width === 0) throw new DatasetError(field, `the rows have no values (shape ${shapeText(shape)})`);
  if (rows > limits.maxRows) throw new DatasetError(field, `${rows} rows (shape ${shapeText(shape)}) exceed the limit of ${limits.maxRows} (MAX_ROWS)`);
  if (width > limits.maxFeatures) {
    throw new DatasetError(field, `${width} values per row (shape ${shapeText(shape)}) exceed the limit of ${limits.maxFeatures} features (MAX_FEATURES)`);
  }
  return { rows, width };
}
