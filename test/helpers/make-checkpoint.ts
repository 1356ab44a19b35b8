// Builds valid checkpoint documents with random float32-representable parameters (as a TF.js-trained
// model would have), laid out the way the model builder writes them:
//   BN before-activation: dense (no bias) -> batchNorm -> activation
//   BN after-activation:  dense (bias)    -> activation -> batchNorm
//   no BN:                dense (bias)    -> activation
// and a final dense (bias) -> sigmoid | softmax | linear for binary | multiclass | regression.
import { CHECKPOINT_FORMAT, type CheckpointDocument, type CheckpointLayer } from '../../src/schemas/checkpoint.js';
import type { ActivationName, ModelSpec, TaskName } from '../../src/schemas/model-spec.js';
import { createPrng, type Prng } from '../../src/util/prng.js';
import type { Checkpoint } from '../../src/checkpoint/checkpoint.js';
import { fromDocument } from '../../src/checkpoint/document.js';
import { resolveTraining } from '../../src/model/spec.js';

export interface CheckpointOptions {
  inputDim: number;
  hidden: number[];
  task: TaskName;
  /** classes for multiclass (default 3); binary and regression always have 1 output */
  classes?: number;
  activation?: ActivationName;
  batchNorm?: Partial<ModelSpec['batchNorm']>;
  seed?: number;
  /** spread of the moving means (default 1): larger values stress the folding's cancellation */
  meanScale?: number;
}

const f32 = (p: Prng, min: number, max: number): number => Math.fround(p.uniform(min, max));
const vec = <T>(n: number, fill: (j: number) => T): T[] => Array.from({ length: n }, (_, j) => fill(j));

export function makeCheckpoint(opts: CheckpointOptions): CheckpointDocument {
  const seed = opts.seed ?? 1;
  const p = createPrng(seed);
  const outputDim = opts.task === 'multiclass' ? (opts.classes ?? 3) : 1;
  const activation = opts.activation ?? 'relu';
  const bn: ModelSpec['batchNorm'] = {
    enabled: true,
    placement: 'before-activation',
    momentum: 0.99,
    epsilon: 1e-3,
    varianceEstimator: 'biased',
    ...opts.batchNorm,
  };
  const meanScale = opts.meanScale ?? 1;
  const layers: CheckpointLayer[] = [];
  const dense = (name: string, n: number, m: number, withBias: boolean): void => {
    const limit = Math.sqrt(6 / (n + m)); // glorot-uniform: keeps activations of order 1 through depth
    const kernel = vec(n, () => vec(m, () => f32(p, -limit, limit)));
    layers.push(withBias ? { type: 'dense', name, kernel, bias: vec(m, () => f32(p, -0.5, 0.5)) } : { type: 'dense', name, kernel });
  };
  const batchNorm = (name: string, m: number): void => {
    layers.push({
      type: 'batchNorm',
      name,
      gamma: vec(m, () => f32(p, 0.5, 1.5)),
      beta: vec(m, () => f32(p, -0.5, 0.5)),
      movingMean: vec(m, () => f32(p, -meanScale, meanScale)),
      movingVariance: vec(m, () => f32(p, 0.05, 2)), // strictly positive
      epsilon: bn.epsilon,
      momentum: bn.momentum,
      varianceEstimator: bn.varianceEstimator,
    });
  };
  let width = opts.inputDim;
  opts.hidden.forEach((units, k) => {
    const before = bn.enabled && bn.placement === 'before-activation';
    dense(`dense_${k}`, width, units, !before);
    if (before) batchNorm(`batch_normalization_${k}`, units);
    layers.push({ type: 'activation', name: `activation_${k}`, fn: activation });
    if (bn.enabled && !before) batchNorm(`batch_normalization_${k}`, units);
    width = units;
  });
  dense('dense_out', width, outputDim, true);
  const outFn = opts.task === 'binary' ? 'sigmoid' : opts.task === 'multiclass' ? 'softmax' : 'linear';
  layers.push({ type: 'activation', name: 'activation_out', fn: outFn });

  return {
    format: CHECKPOINT_FORMAT,
    modelId: `test-${seed}`,
    epoch: 1,
    createdAt: new Date(0).toISOString(),
    backend: 'test',
    spec: {
      inputDim: opts.inputDim,
      outputDim,
      hidden: [...opts.hidden],
      activation,
      task: opts.task,
      batchNorm: bn,
      weightInit: { method: 'glorot-uniform', min: -0.05, max: 0.05, seed },
    },
    training: resolveTraining({
      epochs: 1,
      batchSize: 32,
      optimizer: 'adam',
      learningRate: 0.01,
      validationSplit: 0.2,
      shuffle: true,
      seed,
      progressEveryBatches: 0,
      checkpoints: { keepLast: 20, keepBest: 1 },
    }),
    metrics: { epoch: 1, loss: 0.5, samplesPerSecond: 1000, durationMs: 1 },
    layers,
  };
}

/** The checkpoint of makeCheckpoint in memory (what the engines load). */
export function makeFrozen(opts: CheckpointOptions): Checkpoint {
  return fromDocument(makeCheckpoint(opts));
}

/** Random input rows, float64, roughly unit scale. */
export function randomRows(count: number, dim: number, seed = 7): number[][] {
  const p = createPrng(seed);
  return vec(count, () => vec(dim, () => p.uniform(-2, 2)));
}
