// Structural validation of uploaded rows: the schema layer checks types loosely (and inline training data
// skips it), so every invariant the engine relies on is checked here, naming the offending field.
import type { DatasetData } from '../schemas/dataset.js';
import { DatasetError } from './errors.js';

export interface DatasetLimits {
  maxRows: number;
  maxFeatures: number;
}

/** Larger magnitudes overflow when squared in statistics and training, long before Infinity appears. */
export const MAX_ABS_VALUE = 1e30;

function checkNumber(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new DatasetError(field, `expected a finite number, got ${describe(value)}`);
  }
  if (Math.abs(value) > MAX_ABS_VALUE) {
    throw new DatasetError(field, `${value} is beyond the supported magnitude of ${MAX_ABS_VALUE}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}

/**
 * Checks rows, labels and optional feature names; returns the same arrays typed (no copy: datasets can be
 * large). Throws DatasetError naming the first offending field.
 */
export function validateDatasetRows(
  features: unknown,
  labels: unknown,
  limits: DatasetLimits,
  featureNames?: unknown,
): DatasetData {
  if (!Array.isArray(features)) throw new DatasetError('features', 'expected an array of rows');
  if (features.length === 0) throw new DatasetError('features', 'at least one row is required');
  if (features.length > limits.maxRows) {
    throw new DatasetError('features', `${features.length} rows exceed the limit of ${limits.maxRows}`);
  }
  if (!Array.isArray(labels)) throw new DatasetError('labels', 'expected an array of numbers');
  if (labels.length !== features.length) {
    throw new DatasetError('labels', `expected ${features.length} labels (one per row), got ${labels.length}`);
  }

  const first: unknown = features[0];
  if (!Array.isArray(first)) throw new DatasetError('features[0]', 'expected an array of numbers');
  const width = first.length;
  if (width === 0) throw new DatasetError('features[0]', 'a row needs at least one value');
  if (width > limits.maxFeatures) {
    throw new DatasetError('features[0]', `${width} features exceed the limit of ${limits.maxFeatures}`);
  }
  for (let i = 0; i < features.length; i++) {
    const row: unknown = features[i];
    if (!Array.isArray(row)) throw new DatasetError(`features[${i}]`, 'expected an array of numbers');
    if (row.length !== width) {
      throw new DatasetError(`features[${i}]`, `expected ${width} values, got ${row.length}`);
    }
    for (let j = 0; j < width; j++) checkNumber(row[j], `features[${i}][${j}]`);
  }
  for (let i = 0; i < labels.length; i++) checkNumber(labels[i], `labels[${i}]`);

  if (featureNames !== undefined) {
    if (!Array.isArray(featureNames)) throw new DatasetError('featureNames', 'expected an array of strings');
    if (featureNames.length !== width) {
      throw new DatasetError('featureNames', `expected ${width} names (one per feature), got ${featureNames.length}`);
    }
    const seen = new Set<string>();
    featureNames.forEach((name: unknown, j) => {
      if (typeof name !== 'string' || name.length === 0) {
        throw new DatasetError(`featureNames[${j}]`, 'expected a non-empty string');
      }
      if (seen.has(name)) throw new DatasetError(`featureNames[${j}]`, `duplicate name ${JSON.stringify(name)}`);
      seen.add(name);
    });
  }
  return { features: features as number[][], labels: labels as number[] };
}
