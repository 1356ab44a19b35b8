// The model and training specification: one TypeBox schema shared by the HTTP routes, the job payload,
// the checkpoint document and the engine. Defaults live here and nowhere else.
import { Type, type Static } from 'typebox';

/** Hard caps that keep one job within memory; config may lower them (see src/config). */
export const SPEC_LIMITS = {
  maxUnits: 4096,
  maxLayers: 32,
  maxEpochs: 10_000,
  maxBatchSize: 65_536,
  maxFeatures: 10_000,
  maxClasses: 1000,
} as const;

export const ActivationName = Type.Enum(['relu', 'sigmoid', 'tanh', 'linear'], {
  description: 'Hidden-layer activation',
  default: 'relu',
});
export type ActivationName = Static<typeof ActivationName>;

export const TaskName = Type.Enum(['binary', 'multiclass', 'regression'], {
  description:
    'binary: 1 sigmoid output, binary cross-entropy, labels 0/1. multiclass: softmax over classes, categorical ' +
    'cross-entropy, integer labels 0..K-1. regression: 1 linear output, mean squared error.',
});
export type TaskName = Static<typeof TaskName>;

export const BatchNormSpec = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'One BN layer per hidden layer' })),
    placement: Type.Optional(
      Type.Enum(['before-activation', 'after-activation'], {
        default: 'before-activation',
        description: 'before-activation as in the paper (Dense -> BN -> act); after-activation: Dense -> act -> BN',
      }),
    ),
    momentum: Type.Optional(
      Type.Number({
        minimum: 0,
        exclusiveMaximum: 1,
        default: 0.99,
        description: 'rho in mu <- rho*mu + (1-rho)*mu_B (Keras/TF.js convention; PyTorch momentum = 1 - rho)',
      }),
    ),
    epsilon: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1e-3, description: 'Added to the variance before sqrt' }),
    ),
    varianceEstimator: Type.Optional(
      Type.Enum(['biased', 'unbiased'], {
        default: 'biased',
        description:
          'Estimator fed to the moving variance: biased (1/m, Keras and TF.js) or unbiased (1/(m-1), PyTorch and the ' +
          "paper's Algorithm 2). Training always normalises with the biased batch variance.",
      }),
    ),
  },
  { additionalProperties: false, description: 'Batch Normalization of every hidden layer' },
);
export type BatchNormSpec = Static<typeof BatchNormSpec>;

export const WeightInitSpec = Type.Object(
  {
    method: Type.Optional(Type.Enum(['glorot-uniform', 'uniform'], { default: 'glorot-uniform' })),
    min: Type.Optional(Type.Number({ minimum: -1e6, maximum: 1e6, description: 'uniform only (default -0.05)' })),
    max: Type.Optional(Type.Number({ minimum: -1e6, maximum: 1e6, description: 'uniform only (default 0.05)' })),
    seed: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'Defaults to training.seed' }),
    ),
  },
  { additionalProperties: false, description: 'Kernel initialisation; biases start at 0' },
);
export type WeightInitSpec = Static<typeof WeightInitSpec>;

/** The `model` object users send: dimensions come from the data. */
export const ModelRequest = Type.Object(
  {
    hidden: Type.Array(Type.Integer({ minimum: 1, maximum: SPEC_LIMITS.maxUnits }), {
      minItems: 1,
      maxItems: SPEC_LIMITS.maxLayers,
      description: 'Units of each hidden layer, in order',
    }),
    activation: Type.Optional(ActivationName),
    batchNorm: Type.Optional(BatchNormSpec),
    task: TaskName,
    weightInit: Type.Optional(WeightInitSpec),
  },
  { additionalProperties: false },
);
export type ModelRequest = Static<typeof ModelRequest>;

export const TrainingOptions = Type.Object(
  {
    epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: SPEC_LIMITS.maxEpochs, default: 10 })),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: SPEC_LIMITS.maxBatchSize, default: 32 })),
    optimizer: Type.Optional(
      Type.Enum(['sgd', 'momentum', 'adam'], { default: 'adam', description: 'momentum: SGD with momentum 0.9' }),
    ),
    learningRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100, default: 0.01 })),
    validationSplit: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 0.9,
        default: 0.2,
        description: 'Fraction of rows held out (the last rows, before shuffling, as Keras does); 0 for none',
      }),
    ),
    shuffle: Type.Optional(Type.Boolean({ default: true, description: 'Shuffle training rows every epoch' })),
    seed: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 2 ** 31 - 1,
        description: 'Seed for initialisation and shuffling; chosen at random and recorded when absent',
      }),
    ),
    progressEveryBatches: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0, description: 'Also report every N batches; 0: per epoch only' }),
    ),
  },
  { additionalProperties: false },
);
export type TrainingOptions = Static<typeof TrainingOptions>;

/** The resolved specification the engine runs: every default filled, dimensions known. */
export const ModelSpec = Type.Object(
  {
    inputDim: Type.Integer({ minimum: 1, maximum: SPEC_LIMITS.maxFeatures }),
    outputDim: Type.Integer({
      minimum: 1,
      maximum: SPEC_LIMITS.maxClasses,
      description: '1 for binary and regression, K classes for multiclass',
    }),
    hidden: Type.Array(Type.Integer({ minimum: 1, maximum: SPEC_LIMITS.maxUnits }), {
      minItems: 1,
      maxItems: SPEC_LIMITS.maxLayers,
    }),
    activation: ActivationName,
    task: TaskName,
    batchNorm: Type.Object(
      {
        enabled: Type.Boolean(),
        placement: Type.Enum(['before-activation', 'after-activation']),
        momentum: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
        epsilon: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
        varianceEstimator: Type.Enum(['biased', 'unbiased']),
      },
      { additionalProperties: false },
    ),
    weightInit: Type.Object(
      {
        method: Type.Enum(['glorot-uniform', 'uniform']),
        min: Type.Number(),
        max: Type.Number(),
        seed: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, description: 'The resolved model specification (all defaults filled in)' },
);
export type ModelSpec = Static<typeof ModelSpec>;

export const ResolvedTraining = Type.Object(
  {
    epochs: Type.Integer({ minimum: 1 }),
    batchSize: Type.Integer({ minimum: 1 }),
    optimizer: Type.Enum(['sgd', 'momentum', 'adam']),
    learningRate: Type.Number({ exclusiveMinimum: 0 }),
    validationSplit: Type.Number({ minimum: 0, maximum: 0.9 }),
    shuffle: Type.Boolean(),
    seed: Type.Integer({ minimum: 0 }),
    progressEveryBatches: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false, description: 'The resolved training options (all defaults filled in)' },
);
export type ResolvedTraining = Static<typeof ResolvedTraining>;
