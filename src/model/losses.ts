// Losses with their gradient w.r.t. the output layer's logits, computed stably from the logits.
import * as tf from '@tensorflow/tfjs';
import type { TaskName } from '../schemas/model-spec.js';

export interface LossOutput {
  /** scalar mean loss over the batch */
  loss: tf.Scalar;
  /** dl/dlogits of the mean loss, [m, outputDim]; absent when not asked for */
  dLogits?: tf.Tensor2D;
  /** scalar count of correct predictions (classification only) */
  correct?: tf.Scalar;
}

/**
 * `y`: binary/regression [m, 1] float32; multiclass [m] int32 class indices.
 * binary: BCE from logits z: max(z,0) - z y + log(1 + exp(-|z|)), d/dz = sigmoid(z) - y.
 * multiclass: -log softmax(z)[y], d/dz = softmax(z) - onehot(y). regression: (z - y)^2, d/dz = 2 (z - y).
 */
export function lossAndGrad(task: TaskName, logits: tf.Tensor2D, y: tf.Tensor, withGrad = true): LossOutput {
  return tf.tidy(() => {
    const m = logits.shape[0];
    const k = logits.shape[1];
    if (task === 'binary') {
      const yf = y as tf.Tensor2D;
      const per = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, yf)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
      const loss = tf.mean(per) as tf.Scalar;
      const dLogits = withGrad ? (tf.div(tf.sub(tf.sigmoid(logits), yf), m) as tf.Tensor2D) : undefined;
      const correct = tf.sum(tf.cast(tf.equal(tf.cast(tf.greater(logits, 0), 'float32'), yf), 'float32')) as tf.Scalar;
      return { loss, dLogits, correct };
    }
    if (task === 'multiclass') {
      const labels = y as tf.Tensor1D;
      const onehot = tf.oneHot(labels, k);
      const logp = tf.logSoftmax(logits);
      const loss = tf.neg(tf.div(tf.sum(tf.mul(onehot, logp)), m)) as tf.Scalar;
      const dLogits = withGrad ? (tf.div(tf.sub(tf.exp(logp), onehot), m) as tf.Tensor2D) : undefined;
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar;
      return { loss, dLogits, correct };
    }
    const diff = tf.sub(logits, y);
    const loss = tf.mean(tf.square(diff)) as tf.Scalar;
    const dLogits = withGrad ? (tf.mul(diff, 2 / m) as tf.Tensor2D) : undefined;
    return { loss, dLogits };
  });
}

/** The output layer's activation applied to logits (what a prediction returns). */
export function outputActivation(task: TaskName): 'sigmoid' | 'softmax' | 'linear' {
  return task === 'binary' ? 'sigmoid' : task === 'multiclass' ? 'softmax' : 'linear';
}
