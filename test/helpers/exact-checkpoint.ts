// A network whose every prediction is exact in binary floating point, so that answers can be written down
// by hand, byte for byte (float32 included):
//   h = x · [[1, -1], [2, 0.5]]                 (2 inputs, 2 units, no bias: BN follows)
//   BN: movingMean [1, -1], movingVariance 1 - eps, eps 1e-3 (so sqrt(var + eps) = 1), gamma [2, 1], beta [0.5, 0]
//   r = [2 (h0 - 1) + 0.5, h1 + 1], linear activation
//   y = [r0, r1, r0 + r1 + bias]                (3 outputs, linear)
// x = [1, 2]    -> h = [5, 0]     -> y = [8.5, 1, 9.5 + bias]
// x = [0.5, -1] -> h = [-1.5, -1] -> y = [-4.5, 0, -4.5 + bias]
import { CHECKPOINT_FORMAT, type CheckpointDocument, type EpochMetrics } from '../../src/schemas/checkpoint.js';
import type { Store } from '../../src/store/store.js';
import { putCompletedModel } from '../api-helpers.js';
import { fromDocument } from '../../src/checkpoint/document.js';
import { resolveTraining } from '../../src/model/spec.js';

export function exactCheckpoint(modelId: string, epoch: number, bias: number): CheckpointDocument {
  const eps = 1e-3;
  return {
    format: CHECKPOINT_FORMAT,
    modelId,
    epoch,
    createdAt: new Date(Date.UTC(2024, 0, 1, 0, epoch)).toISOString(),
    backend: 'none',
    spec: {
      inputDim: 2,
      outputDim: 3,
      hidden: [2],
      activation: 'linear',
      task: 'regression',
      batchNorm: { enabled: true, placement: 'before-activation', momentum: 0.99, epsilon: eps, varianceEstimator: 'biased' },
      weightInit: { method: 'glorot-uniform', min: -0.05, max: 0.05, seed: 1 },
    },
    training: resolveTraining({ epochs: epoch, batchSize: 2, optimizer: 'sgd', learningRate: 0.01, validationSplit: 0, shuffle: false, seed: 1, progressEveryBatches: 0, checkpoints: { keepLast: 20, keepBest: 1 } }),
    metrics: { epoch, loss: 0.5, samplesPerSecond: 1000, durationMs: 1 },
    layers: [
      { type: 'dense', name: 'dense_0', kernel: [[1, -1], [2, 0.5]] },
      {
        type: 'batchNorm', name: 'batch_normalization_0', gamma: [2, 1], beta: [0.5, 0], movingMean: [1, -1],
        movingVariance: [1 - eps, 1 - eps], epsilon: eps, momentum: 0.99, varianceEstimator: 'biased',
      },
      { type: 'activation', name: 'activation_0', fn: 'linear' },
      { type: 'dense', name: 'dense_out', kernel: [[1, 0, 1], [0, 1, 1]], bias: [0, 0, bias] },
      { type: 'activation', name: 'activation_out', fn: 'linear' },
    ],
  };
}

/**
 * A completed model whose checkpoints 1..biases.length are exactCheckpoint with those output biases, and
 * the metrics given per epoch (loss, valLoss, ...) over the default ones.
 */
export async function putExactModel(store: Store, modelId: string, biases: number[], metrics: Partial<EpochMetrics>[] = []): Promise<void> {
  await putCompletedModel(
    store,
    biases.map((bias, i) => {
      const doc = exactCheckpoint(modelId, i + 1, bias);
      doc.metrics = { ...doc.metrics, ...metrics[i] };
      return fromDocument(doc);
    }),
  );
}
