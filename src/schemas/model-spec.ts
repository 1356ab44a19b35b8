// The model and training specification: one TypeBox schema shared by the HTTP routes, the job payload,
// the checkpoint document and the engine. Defaults and allowed values live here and nowhere else
// (src/model/spec.ts resolves a request with these defaults). The request schemas take the server's
// limits, so that the OpenAPI document shows this server's maxima and a request learns them all at once.
import { Type, type Static } from 'typebox';
import {
  BnStatistics,
  EarlyStopping,
  LearningRateSchedule,
  ResolvedBnStatistics,
  ResolvedEarlyStopping,
  ResolvedLearningRateSchedule,
} from './training-extras.js';

/** Hard caps that keep one job within memory; config may lower them (see src/config). */
export const SPEC_LIMITS = {
  maxUnits: 4096,
  maxLayers: 32,
  maxEpochs: 10_000,
  maxBatchSize: 65_536,
  maxFeatures: 10_000,
  maxClasses: 1000,
} as const;

/** The limits a request schema is built with: the hard caps, or a server's own (lower) ones. */
export interface RequestLimits {
  maxUnits: number;
  maxLayers: number;
  maxEpochs: number;
  maxBatchSize: number;
}

export const MAX_SEED = 2 ** 31 - 1;

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

export const Placement = Type.Enum(['before-activation', 'after-activation'], {
  default: 'before-activation',
  description: 'before-activation as in the paper (Dense -> BN -> act); after-activation: Dense -> act -> BN',
});
export const VarianceEstimator = Type.Enum(['biased', 'unbiased'], {
  default: 'biased',
  description:
    'Estimator fed to the moving variance: biased (1/m, Keras and TF.js) or unbiased (1/(m-1), PyTorch and the ' +
    "paper's Algorithm 2). Training always normalises with the biased batch variance.",
});
export const InitMethod = Type.Enum(['glorot-uniform', 'uniform'], { default: 'glorot-uniform' });
export const OptimizerName = Type.Enum(['sgd', 'momentum', 'adam'], { default: 'adam', description: 'momentum: SGD with momentum 0.9' });

const Momentum = { minimum: 0, exclusiveMaximum: 1 };
const Epsilon = { exclusiveMinimum: 0, maximum: 1 };

export const BatchNormSpec = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'One BN layer per hidden layer' })),
    placement: Type.Optional(Placement),
    momentum: Type.Optional(
      Type.Number({
        ...Momentum,
        default: 0.99,
        description: 'rho in mu <- rho*mu + (1-rho)*mu_B (Keras/TF.js convention; PyTorch momentum = 1 - rho)',
      }),
    ),
    epsilon: Type.Optional(Type.Number({ ...Epsilon, default: 1e-3, description: 'Added to the variance before sqrt' })),
    varianceEstimator: Type.Optional(VarianceEstimator),
  },
  { additionalProperties: false, default: {}, description: 'Batch Normalization of every hidden layer' },
);
export type BatchNormSpec = Static<typeof BatchNormSpec>;

export const WeightInitSpec = Type.Object(
  {
    method: Type.Optional(InitMethod),
    min: Type.Optional(Type.Number({ minimum: -1e6, maximum: 1e6, default: -0.05, description: 'uniform only' })),
    max: Type.Optional(Type.Number({ minimum: -1e6, maximum: 1e6, default: 0.05, description: 'uniform only' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SEED, description: 'Defaults to training.seed' })),
  },
  { additionalProperties: false, default: {}, description: 'Kernel initialisation; biases start at 0' },
);
export type WeightInitSpec = Static<typeof WeightInitSpec>;

/** The `model` object users send: dimensions come from the data. */
export function modelRequestSchema(limits: RequestLimits) {
  return Type.Object(
    {
      hidden: Type.Array(Type.Integer({ minimum: 1, maximum: limits.maxUnits }), {
        minItems: 1,
        maxItems: limits.maxLayers,
        description: 'Units of each hidden layer, in order',
      }),
      activation: Type.Optional(ActivationName),
      batchNorm: Type.Optional(BatchNormSpec),
      task: TaskName,
      weightInit: Type.Optional(WeightInitSpec),
    },
    { additionalProperties: false },
  );
}
export const ModelRequest = modelRequestSchema(SPEC_LIMITS);
export type ModelRequest = Static<typeof ModelRequest>;

export const RetentionOptions = Type.Object(
  {
    keepLast: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000, default: 20, description: 'The newest N checkpoints are kept' }),
    ),
    keepBest: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1000,
        default: 1,
        description: 'Also the N best: lowest valLoss with a validation split, else lowest loss',
      }),
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Which checkpoints outlive training. The newest one and aliased ones are always kept; the per-epoch ' +
      'metrics of every epoch stay available (the history) when its weights are pruned.',
  },
);
export type RetentionOptions = Static<typeof RetentionOptions>;

export function trainingOptionsSchema(limits: RequestLimits) {
  return Type.Object(
    {
      epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.maxEpochs, default: 10 })),
      batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.maxBatchSize, default: 32 })),
      optimizer: Type.Optional(OptimizerName),
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
          maximum: MAX_SEED,
          description: 'Seed for initialisation and shuffling; chosen at random and recorded when absent',
        }),
      ),
      progressEveryBatches: Type.Optional(
        Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0, description: 'Also report every N batches; 0: per epoch only' }),
      ),
      checkpoints: Type.Optional(RetentionOptions),
      learningRateSchedule: Type.Optional(LearningRateSchedule),
      earlyStopping: Type.Optional(EarlyStopping),
      bnStatistics: Type.Optional(BnStatistics),
    },
    { additionalProperties: false },
  );
}
export const TrainingOptions = trainingOptionsSchema(SPEC_LIMITS);
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
        placement: Placement,
        momentum: Type.Number(Momentum),
        epsilon: Type.Number(Epsilon),
        varianceEstimator: VarianceEstimator,
      },
      { additionalProperties: false },
    ),
    weightInit: Type.Object(
      {
        method: InitMethod,
        min: Type.Number({ minimum: -1e6, maximum: 1e6 }),
        max: Type.Number({ minimum: -1e6, maximum: 1e6 }),
        seed: Type.Integer({ minimum: 0, maximum: MAX_SEED }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, description: 'The resolved model specification (all defaults filled in)' },
);
export type ModelSpec = Static<typeof ModelSpec>;

export const ResolvedTraining = Type.Object(
  {
    epochs: Type.Integer({ minimum: 1, maximum: SPEC_LIMITS.maxEpochs }),
    batchSize: Type.Integer({ minimum: 1, maximum: SPEC_LIMITS.maxBatchSize }),
    optimizer: OptimizerName,
    learningRate: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
    validationSplit: Type.Number({ minimum: 0, maximum: 0.9 }),
    shuffle: Type.Boolean(),
    seed: Type.Integer({ minimum: 0, maximum: MAX_SEED }),
    progressEveryBatches: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    checkpoints: Type.Object(
      { keepLast: Type.Integer({ minimum: 1 }), keepBest: Type.Integer({ minimum: 0 }) },
      { additionalProperties: false },
    ),
    learningRateSchedule: ResolvedLearningRateSchedule,
    earlyStopping: Type.Optional(ResolvedEarlyStopping),
    bnStatistics: ResolvedBnStatistics,
  },
  { additionalProperties: false, description: 'The resolved training options (all defaults filled in)' },
);
export type ResolvedTraining = Static<typeof ResolvedTraining>;
