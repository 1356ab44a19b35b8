// Packing rows into flat typed arrays once; the training step gathers its mini-batches from them.
import * as tf from '@tensorflow/tfjs';
import type { TaskName } from '../schemas/model-spec.js';
import { SpecError } from './errors.js';
import type { Matrix } from './types.js';

export interface Packed {
  n: number;
  d: number;
  x: Float32Array;
  /** float labels (binary, regression) or class indices (multiclass) */
  y: Float32Array | Int32Array;
}

export function pack(m: Matrix, d: number, task: TaskName, from = 0, to = m.features.length): Packed {
  const n = to - from;
  const x = new Float32Array(n * d);
  const y = task === 'multiclass' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x.set(m.features[from + i], i * d);
    y[i] = m.labels[from + i];
  }
  return { n, d, x, y };
}

/** Training and validation rows: the given validation matrix, or the last validationSplit rows (as Keras). */
export function split(data: Matrix, validation: Matrix | undefined, split: number, d: number, task: TaskName) {
  if (validation) return { train: pack(data, d, task), val: pack(validation, d, task) };
  const n = data.features.length;
  const at = Math.floor(n * (1 - split));
  if (at < 1) throw new SpecError('training.validationSplit', `leaves no training rows out of ${n}`);
  return { train: pack(data, d, task, 0, at), val: at < n ? pack(data, d, task, at, n) : undefined };
}

/** Features of the contiguous rows [from, to) as a tensor. */
export function rowsTensor(p: Packed, from: number, to: number): tf.Tensor2D {
  return tf.tensor2d(p.x.subarray(from * p.d, to * p.d), [to - from, p.d]);
}
