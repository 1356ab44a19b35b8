// A small network with weights chosen by hand, its rows and labels, and its metrics computed by hand:
// the fixture of the evaluation tests.
import type { CheckpointDocument, CheckpointLayer } from '../../src/schemas/checkpoint.js';
import type { TaskName } from '../../src/schemas/model-spec.js';
import { makeCheckpoint } from './make-checkpoint.js';
import { fromDocument } from '../../src/checkpoint/document.js';
import type { Checkpoint } from '../../src/checkpoint/checkpoint.js';

export const W0 = [[1, -1], [0.5, 2]];
export const BN = { gamma: [2, 0.5], beta: [0.1, -0.2], movingMean: [0.5, -1], movingVariance: [4, 0.25], epsilon: 0.001 };
export const OUT: Record<TaskName, { kernel: number[][]; bias: number[]; fn: 'softmax' | 'sigmoid' | 'linear' }> = {
  multiclass: { kernel: [[1, 0, -1], [0.5, -0.5, 2]], bias: [0, 0.25, -0.25], fn: 'softmax' },
  binary: { kernel: [[1.5], [-2]], bias: [0.25], fn: 'sigmoid' },
  regression: { kernel: [[3], [-1]], bias: [0.5], fn: 'linear' },
};
export const ROWS = [[0, 0], [1, 0], [0, 1], [-1, 2], [2, 2], [0.5, -1.5], [3, -0.25]];
export const LABELS: Record<TaskName, number[]> = {
  multiclass: [0, 2, 1, 2, 0, 1, 0],
  binary: [1, 0, 0, 1, 1, 0, 1],
  regression: [0.5, -1, 2, 3.5, 0, 1, -2],
};

export function knownCheckpoint(task: TaskName): Checkpoint {
  const base = makeCheckpoint({ inputDim: 2, hidden: [2], task, classes: 3 });
  const out = OUT[task];
  const layers: CheckpointLayer[] = [
    { type: 'dense', name: 'dense_0', kernel: W0 },
    { type: 'batchNorm', name: 'batch_normalization_0', ...BN, momentum: 0.99, varianceEstimator: 'biased' },
    { type: 'activation', name: 'activation_0', fn: 'relu' },
    { type: 'dense', name: 'dense_out', kernel: out.kernel, bias: out.bias },
    { type: 'activation', name: 'activation_out', fn: out.fn },
  ];
  return fromDocument({ ...base, layers });
}

/** The network's logits for one row, written out: x W0, BN with the moving statistics, relu, W1 + b. */
export function logitsByHand(task: TaskName, x: number[]): number[] {
  const h = [0, 1].map((j) => x[0] * W0[0][j] + x[1] * W0[1][j]);
  const a = h.map((v, j) => Math.max(0, (BN.gamma[j] * (v - BN.movingMean[j])) / Math.sqrt(BN.movingVariance[j] + BN.epsilon) + BN.beta[j]));
  const { kernel, bias } = OUT[task];
  return bias.map((b, k) => b + a[0] * kernel[0][k] + a[1] * kernel[1][k]);
}

export function metricsByHand(task: TaskName) {
  const k = task === 'multiclass' ? 3 : 2;
  const confusion = Array.from({ length: k }, () => new Array(k).fill(0));
  let loss = 0;
  let correct = 0;
  ROWS.forEach((x, i) => {
    const z = logitsByHand(task, x);
    const y = LABELS[task][i];
    if (task === 'multiclass') {
      const m = Math.max(...z);
      loss += m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) - z[y]; // -log softmax(z)[y]
      const predicted = z.indexOf(m);
      confusion[y][predicted]++;
      if (predicted === y) correct++;
    } else if (task === 'binary') {
      const p = 1 / (1 + Math.exp(-z[0]));
      loss += -(y * Math.log(p) + (1 - y) * Math.log(1 - p));
      const predicted = p > 0.5 ? 1 : 0;
      confusion[y][predicted]++;
      if (predicted === y) correct++;
    } else {
      loss += (z[0] - y) ** 2;
    }
  });
  const n = ROWS.length;
  return task === 'regression' ? { rows: n, loss: loss / n } : { rows: n, loss: loss / n, accuracy: correct / n, confusionMatrix: confusion };
}
