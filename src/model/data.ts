// A dataset part as the training step reads it: float32 features row-major (a view of the stored array
// when it is float32 already; uint8 pixels are converted with their scale once), labels as floats or
// class indices. The step gathers its mini-batches from these arrays.
import * as tf from '@tensorflow/tfjs';
import { featuresFloat32 } from '../datasets/arrays.js';
import type { DatasetPart } from '../schemas/dataset.js';
import type { TaskName } from '../schemas/model-spec.js';
import { SpecError } from './errors.js';

export interface Packed {
  n: number;
  d: number;
  x: Float32Array;
  /** float labels (binary, regression) or class indices (multiclass) */
  y: Float32Array | Int32Array;
}

export function pack(part: DatasetPart, task: TaskName, from = 0, to = part.rows): Packed {
  const labels = part.y.subarray(from, to);
  return {
    n: to - from,
    d: part.features,
    x: featuresFloat32(part, from, to),
    y: task === 'multiclass' ? Int32Array.from(labels) : labels,
  };
}

/** How many of `n` rows train when the last `split` of them validate (as Keras). */
export function trainingRowCount(n: number, split: number): number {
  return Math.floor(n * (1 - split));
}

/** Training and validation rows: the given validation part, or the last validationSplit rows (as Keras). */
export function split(data: DatasetPart, validation: DatasetPart | undefined, split: number, task: TaskName) {
  if (validation) return { train: pack(data, task), val: pack(validation, task) };
  const n = data.rows;
  const at = trainingRowCount(n, split);
  if (at < 1) throw new SpecError('training.validationSplit', `leaves no training rows out of ${n}`);
  return { train: pack(data, task, 0, at), val: at < n ? pack(data, task, at, n) : undefined };
}

/** Features of the contiguous rows [from, to) as a tensor. */
export function rowsTensor(p: Packed, from: number, to: number): tf.Tensor2D {
  return tf.tensor2d(p.x.subarray(from * p.d, to * p.d), [to - from, p.d]);
}
