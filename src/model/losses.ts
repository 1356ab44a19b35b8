// Losses with their gradient w.r.t. the output layer's logits, computed stably from the logits, on
// row-major arrays in float64 (the logits are small: [m, outputDim]).
import type { TaskName } from '../schemas/model-spec.js';

export interface LossOutput {
  /** mean loss over the batch */
  loss: number;
  /** correct predictions (classification; 0 for regression) */
  correct: number;
}

/**
 * `logits` [m, k]; `y`: binary/regression one float per row (k = 1), multiclass class indices.
 * binary: BCE from logits z: max(z,0) - z y + log(1 + exp(-|z|)), d/dz = sigmoid(z) - y.
 * multiclass: -log softmax(z)[y], d/dz = softmax(z) - onehot(y). regression: (z - y)^2, d/dz = 2 (z - y).
 * The gradient is that of the MEAN loss and is written to `dLogits` [m, k] when given.
 */
export function lossAndGrad(
  task: TaskName,
  logits: Float32Array,
  y: ArrayLike<number>,
  m: number,
  k: number,
  dLogits?: Float32Array,
): LossOutput {
  let sum = 0;
  let correct = 0;
  if (task === 'multiclass') {
    for (let i = 0; i < m; i++) {
      const o = i * k;
      const label = y[i];
      let max = -Infinity;
      let argMax = 0;
      for (let j = 0; j < k; j++) {
        if (logits[o + j] > max) {
          max = logits[o + j];
          argMax = j;
        }
      }
      let s = 0;
      for (let j = 0; j < k; j++) s += Math.exp(logits[o + j] - max);
      const logSumExp = max + Math.log(s);
      sum += logSumExp - logits[o + label];
      if (argMax === label) correct++;
      if (dLogits) {
        for (let j = 0; j < k; j++) dLogits[o + j] = (Math.exp(logits[o + j] - logSumExp) - (j === label ? 1 : 0)) / m;
      }
    }
    return { loss: sum / m, correct };
  }
  const n = m * k;
  if (task === 'binary') {
    for (let i = 0; i < n; i++) {
      const z = logits[i];
      const t = y[i];
      sum += Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
      if ((z > 0 ? 1 : 0) === t) correct++;
      if (dLogits) dLogits[i] = (1 / (1 + Math.exp(-z)) - t) / n;
    }
    return { loss: sum / n, correct };
  }
  for (let i = 0; i < n; i++) {
    const diff = logits[i] - y[i];
    sum += diff * diff;
    if (dLogits) dLogits[i] = (2 * diff) / n;
  }
  return { loss: sum / n, correct: 0 };
}

/** The output layer's activation applied to logits (what a prediction returns). */
export function outputActivation(task: TaskName): 'sigmoid' | 'softmax' | 'linear' {
  return task === 'binary' ? 'sigmoid' : task === 'multiclass' ? 'softmax' : 'linear';
}
