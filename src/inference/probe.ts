// A network small enough to check by hand: an engine that gets it wrong must not serve predictions.
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { fromDocument } from '../checkpoint/document.js';
import type { InferenceEngine } from './types.js';

/** A 1-1-1 network whose output is known: the readiness probe of the inference engine. */
export function probeCheckpoint(): Checkpoint {
  return fromDocument({
    format: 'bn-checkpoint/v1',
    modelId: 'readiness-probe',
    epoch: 1,
    createdAt: new Date(0).toISOString(),
    backend: 'none',
    spec: {
      inputDim: 1,
      outputDim: 1,
      hidden: [1],
      activation: 'linear',
      task: 'regression',
      batchNorm: { enabled: true, placement: 'before-activation', momentum: 0.99, epsilon: 1e-3, varianceEstimator: 'biased' },
      weightInit: { method: 'glorot-uniform', min: -0.05, max: 0.05, seed: 1 },
    },
    training: {
      epochs: 1, batchSize: 1, optimizer: 'sgd', learningRate: 0.01, validationSplit: 0, shuffle: false, seed: 1, progressEveryBatches: 0,
    },
    metrics: { epoch: 1, loss: 0, samplesPerSecond: 0, durationMs: 0 },
    layers: [
      { type: 'dense', name: 'dense_1', kernel: [[2]] },
      {
        type: 'batchNorm', name: 'batch_norm_1', gamma: [1], beta: [0], movingMean: [0], movingVariance: [1 - 1e-3],
        epsilon: 1e-3, momentum: 0.99, varianceEstimator: 'biased',
      },
      { type: 'activation', name: 'activation_1', fn: 'linear' },
      { type: 'dense', name: 'output', kernel: [[1]], bias: [0] },
      { type: 'activation', name: 'output_activation', fn: 'linear' },
    ],
  });
}

/** Throws unless the engine computes the probe's known output: x = 3, h = 6, hhat = 6/sqrt(1 - eps + eps) = 6, y = 6. */
export async function checkEngine(engine: InferenceEngine): Promise<void> {
  const y = (await (await engine.load(probeCheckpoint())).predictOne([3]))[0];
  if (!(Math.abs(y - 6) < 1e-4)) throw new Error(`inference engine ${engine.name} computed ${y} for the probe, expected 6`);
}
