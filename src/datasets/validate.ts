// The one row validator: uploaded rows, inline training rows, prediction rows and the labels of a task are
// checked here (the schema layer checks types loosely, and binary files have no schema), naming the
// offending field. Rows that pass are converted once into the typed-array form the engine reads.
import type { DatasetInfo, DatasetPart } from '../schemas/dataset.js';
import type { TaskName } from '../schemas/model-spec.js';
import { DatasetError } from './errors.js';

export interface DatasetLimits {
  maxRows: number;
  maxFeatures: number;
  /** Largest stored size of a dataset (features and labels of both parts, as stored); default: no limit */
  maxBytes?: number;
}

/** Larger magnitudes overflow when squared in statistics and training, long before Infinity appears. */
export const MAX_ABS_VALUE = 1e30;

export function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}

/** The detail of a value that is not a usable number, or undefined when it is one. */
export function valueProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `expected a finite number, got ${describeValue(value)}`;
  if (Math.abs(value) > MAX_ABS_VALUE) return `${value} is beyond the supported magnitude of ${MAX_ABS_VALUE}`;
  return undefined;
}

export function checkValue(value: unknown, field: string): void {
  const problem = valueProblem(value);
  if (problem !== undefined) throw new DatasetError(field, problem);
}

/**
 * One row of `width` usable numbers (a dataset row or a prediction's input). `widthDetail` words the
 * length error for the caller (a model's inputDim, a dataset's first row).
 */
export function checkRow(
  row: unknown,
  width: number,
  field: string,
  widthDetail: (got: number) => string = (got) => `expected ${width} values, got ${got}`,
): void {
  if (!Array.isArray(row)) throw new DatasetError(field, 'expected an array of numbers');
  if (row.length !== width) throw new DatasetError(field, widthDetail(row.length));
  for (let j = 0; j < width; j++) checkValue(row[j], `${field}[${j}]`);
}

export function checkFeatureNames(featureNames: unknown, width: number): void {
  if (!Array.isArray(featureNames)) throw new DatasetError('featureNames', 'expected an array of strings');
  if (featureNames.length !== width) {
    throw new DatasetError('featureNames', `expected ${width} names (one per feature), got ${featureNames.length}`);
  }
  const seen = new Set<string>();
  featureNames.forEach((name: unknown, j) => {
    if (typeof name !== 'string' || name.length === 0) throw new DatasetError(`featureNames[${j}]`, 'expected a non-empty string');
    if (seen.has(name)) throw new DatasetError(`featureNames[${j}]`, `duplicate name ${JSON.stringify(name)}`);
    seen.add(name);
  });
}

/**
 * Checks rows, labels and optional feature names and converts them once into a float32 part. Throws
 * DatasetError naming the first offending field.
 */
export function validateDatasetRows(
  features: unknown,
  labels: unknown,
  limits: DatasetLimits,
  featureNames?: unknown,
): DatasetPart {
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
  const rows = features.length;
  const x = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) {
    const row: unknown = features[i];
    checkRow(row, width, `features[${i}]`);
    x.set(row as number[], i * width);
  }
  const y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    checkValue(labels[i], `labels[${i}]`);
    y[i] = labels[i] as number;
  }
  if (featureNames !== undefined) checkFeatureNames(featureNames, width);
  return { rows, features: width, x, scale: 1, y };
}

/** The detail of a label a task cannot train on, or undefined. */
export function labelProblem(y: number, task: TaskName, outputDim: number): string | undefined {
  if (!Number.isFinite(y)) return `must be a finite number (got ${y})`;
  if (task === 'binary' && y !== 0 && y !== 1) return `must be 0 or 1 for a binary task (got ${y})`;
  if (task === 'multiclass' && (!Number.isInteger(y) || y < 0 || y >= outputDim)) {
    return `must be an integer class in [0, ${outputDim}) (got ${y})`;
  }
  return undefined;
}

/** Every label of `y` must suit the task; `field` names the label array (e.g. `dataset.labels`). */
export function checkLabelsForTask(y: ArrayLike<number>, task: TaskName, outputDim: number, field: string, offset = 0): void {
  for (let i = 0; i < y.length; i++) {
    const problem = labelProblem(y[i], task, outputDim);
    if (problem !== undefined) throw new DatasetError(`${field}[${offset + i}]`, problem);
  }
}

/** A part's stored features must be finite and within MAX_ABS_VALUE (uint8 always are). */
export function checkPartValues(part: DatasetPart, field: string): void {
  if (part.x.length !== part.rows * part.features) {
    throw new DatasetError(field, `holds ${part.x.length} feature values, expected ${part.rows} x ${part.features}`);
  }
  if (part.y.length !== part.rows) throw new DatasetError(`${field}.labels`, `expected ${part.rows} labels (one per row), got ${part.y.length}`);
  if (part.x instanceof Float32Array) {
    const { x, features, scale } = part;
    for (let k = 0; k < x.length; k++) {
      const problem = valueProblem(x[k] * scale);
      if (problem !== undefined) {
        throw new DatasetError(`${field}.features[${Math.floor(k / features)}][${k % features}]`, problem);
      }
    }
  }
  for (let i = 0; i < part.rows; i++) {
    const problem = valueProblem(part.y[i]);
    if (problem !== undefined) throw new DatasetError(`${field}.labels[${i}]`, problem);
  }
}

/**
 * Whether a dataset suits a model by its info alone (no rows read): as many features as the model's
 * inputDim, and labels the task can take (`classes` is max label + 1 when every label is an integer >= 0).
 */
export function checkDatasetForModel(
  info: Pick<DatasetInfo, 'id' | 'features' | 'classes'>,
  spec: { inputDim: number; outputDim: number; task: TaskName },
  field: string,
): void {
  if (info.features !== spec.inputDim) {
    throw new DatasetError(field, `${info.id} has ${info.features} features per row; the model takes inputDim=${spec.inputDim}`);
  }
  const { classes } = info;
  if (spec.task === 'binary' && (classes === undefined || classes > 2)) {
    const labels = classes === undefined ? 'not all integers >= 0' : `0 to ${classes - 1}`;
    throw new DatasetError(field, `the labels of ${info.id} are ${labels}; a binary task takes labels 0 and 1`);
  }
  if (spec.task === 'multiclass') {
    if (classes === undefined) throw new DatasetError(field, `the labels of ${info.id} are not all integers >= 0; a multiclass task takes class indices 0..K-1`);
    if (classes > spec.outputDim) {
      throw new DatasetError(field, `the labels of ${info.id} go up to ${classes - 1}; the model has outputDim=${spec.outputDim} classes`);
    }
  }
}
