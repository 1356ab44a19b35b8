// Packing rows into flat typed arrays once, and mini-batch tensors from them.
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

/** Rows `idx` of `p` as tensors; labels shaped for lossAndGrad. */
export function batchTensors(p: Packed, idx: ArrayLike<number>, task: TaskName): { x: tf.Tensor2D; y: tf.Tensor } {
  const m = idx.length;
  const x = new Float32Array(m * p.d);
  const y = task === 'multiclass' ? new Int32Array(m) : new Float32Array(m);
  for (let i = 0; i < m; i++) {
    const r = idx[i];
    x.set(p.x.subarray(r * p.d, (r + 1) * p.d), i * p.d);
    y[i] = p.y[r];
  }
  return {
    x: tf.tensor2d(x, [m, p.d]),
    y: task === 'multiclass' ? tf.tensor1d(y, 'int32') : tf.tensor2d(y, [m, 1]),
  };
}

/** Contiguous rows [from, to) without copying more than once. */
export function sliceTensors(p: Packed, from: number, to: number, task: TaskName): { x: tf.Tensor2D; y: tf.Tensor } {
  const m = to - from;
  return {
    x: tf.tensor2d(p.x.slice(from * p.d, to * p.d), [m, p.d]),
    y: task === 'multiclass' ? tf.tensor1d(p.y.slice(from, to), 'int32') : tf.tensor2d(p.y.slice(from, to), [m, 1]),
  };
}
