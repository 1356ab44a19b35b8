// Hidden-layer activations and their derivatives, expressed through the activation's OUTPUT so the
// backward pass needs no extra cached tensor.
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

/** dl/dx given dl/dy and y = fn(x). */
export function activationBackward(fn: ActivationName, dy: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    switch (fn) {
      case 'relu':
        return tf.mul(dy, tf.step(y)) as tf.Tensor2D; // step(0) = 0: no gradient at the kink
      case 'sigmoid':
        return tf.mul(dy, tf.mul(y, tf.sub(1, y))) as tf.Tensor2D;
      case 'tanh':
        return tf.mul(dy, tf.sub(1, tf.square(y))) as tf.Tensor2D;
      case 'linear':
        return dy.clone();
    }
  });
}
