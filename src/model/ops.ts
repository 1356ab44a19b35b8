// Matrix products in the forms that are fast on every backend. On wasm (XNNPACK) the transpose flags of
// tf.matMul are ~10x slower than an explicit tf.transpose followed by a plain product (measured on
// [128,784]x[784,256]: plain 1.9 ms, transposeA 26.7 ms, transpose + plain 2.6 ms), so the backward
// pass never uses the flags.
import * as tf from '@tensorflow/tfjs';

/** a^T . b */
export function matMulAT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(tf.transpose(a), b));
}

/** a . b^T */
export function matMulBT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(a, tf.transpose(b)));
}

/** Column sums of a [m, k] matrix: [k]. */
export function colSum(a: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(a, 0);
}
