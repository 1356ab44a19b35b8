// Trained values that an engine keeps in host arrays between syncs, and their way back to the variables.
import * as tf from '@tensorflow/tfjs';

/** A copy of a variable's values. */
export function readVariable(v: tf.Variable): Float32Array {
  return Float32Array.from(v.dataSync());
}

/** Assigns each variable the values of its array (copied: the engine keeps updating its arrays). */
export function writeVariables(values: Iterable<[tf.Variable, Float32Array]>): void {
  tf.tidy(() => {
    for (const [v, a] of values) v.assign(tf.tensor(a.slice(), v.shape, 'float32'));
  });
}
