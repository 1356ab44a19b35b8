// Hidden-layer activations: on tensors for inference, in place on arrays for training. Derivatives are
// expressed through the activation's OUTPUT so the backward pass needs no extra cached array.
import * as tf from '@tensorflow/tfjs';
import type { ActivationName } from '../schemas/model-spec.js';

export function activate(fn: ActivationName, x: tf.Tensor2D): tf.Tensor2D {
  switch (fn) {
    case 'relu':
      return tf.relu(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'linear':
      return x;
  }
}

// The ReLU forms below are branchless on purpose: V8 compiles `v > 0 ? v : 0` and Math.max to
// branches, and on half-negative data the mispredictions made the loop ~7x slower.

/** x <- fn(x). */
export function activateInPlace(fn: ActivationName, x: Float32Array): void {
  const n = x.length;
  switch (fn) {
    case 'relu':
      for (let i = 0; i < n; i++) {
        const v = x[i];
        x[i] = (v + Math.abs(v)) * 0.5; // exactly max(v, 0)
      }
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) x[i] = 1 / (1 + Math.exp(-x[i]));
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) x[i] = Math.tanh(x[i]);
      return;
    case 'linear':
      return;
  }
}

/** dy <- dl/dx given dl/dy and y = fn(x). */
export function activationBackwardInPlace(fn: ActivationName, dy: Float32Array, y: Float32Array): void {
  const n = dy.length;
  switch (fn) {
    case 'relu':
      for (let i = 0; i < n; i++) dy[i] *= +(y[i] > 0); // no gradient at the kink, as tf.step(0) = 0
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) dy[i] *= y[i] * (1 - y[i]);
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) dy[i] *= 1 - y[i] * y[i];
      return;
    case 'linear':
      return;
  }
}
