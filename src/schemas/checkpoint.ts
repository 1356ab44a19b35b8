// The checkpoint document: every transform a prediction applies, in forward order, so that anyone can
// reproduce a prediction by hand. Written by the engine, kept by the store, served by the API.
import { Type, type Static } from 'typebox';
import { ModelSpec, ResolvedTraining } from './model-spec.js';
import { CheckpointBnStatistics } from './training-extras.js';

export const CHECKPOINT_FORMAT = 'bn-checkpoint/v1';
export const TRAINING_STATE_FORMAT = 'bn-training-state/v2';

const Vector = Type.Array(Type.Number());

export const DenseLayer = Type.Object(
  {
    type: Type.Literal('dense'),
    name: Type.String(),
    kernel: Type.Array(Vector, { description: '[inputs][units]: h = x . kernel (+ bias)' }),
    bias: Type.Optional(Type.Array(Type.Number(), { description: 'Absent when a BN layer follows (beta plays its role)' })),
  },
  { additionalProperties: false },
);
export type DenseLayer = Static<typeof DenseLayer>;

export const BatchNormLayer = Type.Object(
  {
    type: Type.Literal('batchNorm'),
    name: Type.String(),
    gamma: Vector,
    beta: Vector,
    movingMean: Vector,
    movingVariance: Vector,
    epsilon: Type.Number(),
    momentum: Type.Number(),
    varianceEstimator: Type.Enum(['biased', 'unbiased']),
  },
  {
    additionalProperties: false,
    description: 'At inference: r = gamma * (h - movingMean) / sqrt(movingVariance + epsilon) + beta',
  },
);
export type BatchNormLayer = Static<typeof BatchNormLayer>;

export const ActivationLayer = Type.Object(
  {
    type: Type.Literal('activation'),
    name: Type.String(),
    fn: Type.Enum(['relu', 'sigmoid', 'tanh', 'linear', 'softmax']),
  },
  { additionalProperties: false },
);
export type ActivationLayer = Static<typeof ActivationLayer>;

export const CheckpointLayer = Type.Union([DenseLayer, BatchNormLayer, ActivationLayer]);
export type CheckpointLayer = Static<typeof CheckpointLayer>;

/**
 * The metrics of one epoch: the line of a model's epoch log (one per epoch, kept for every epoch, pruned
 * checkpoints included), the `metrics` of its checkpoint, and an entry of a job's history. New
 * per-epoch facts are added here as optional properties, and every one of those places carries them.
 */
export const EpochMetrics = Type.Object(
  {
    epoch: Type.Integer({ minimum: 1 }),
    loss: Type.Number(),
    valLoss: Type.Optional(Type.Number()),
    accuracy: Type.Optional(Type.Number({ description: 'Classification only; training batches, batch statistics' })),
    valAccuracy: Type.Optional(Type.Number({ description: 'Classification only; frozen statistics' })),
    samplesPerSecond: Type.Number(),
    durationMs: Type.Number(),
    learningRate: Type.Optional(Type.Number({ description: "The rate every batch of the epoch used (training.learningRateSchedule)" })),
  },
  { additionalProperties: false },
);
export type EpochMetrics = Static<typeof EpochMetrics>;

export const CheckpointDocument = Type.Object(
  {
    format: Type.Literal(CHECKPOINT_FORMAT),
    modelId: Type.String(),
    epoch: Type.Integer({ minimum: 1, description: 'Epochs completed when this checkpoint was taken' }),
    createdAt: Type.String({ format: 'date-time' }),
    backend: Type.String({ description: 'TF.js backend that trained it' }),
    spec: ModelSpec,
    training: ResolvedTraining,
    metrics: EpochMetrics,
    bnStatistics: Type.Optional(CheckpointBnStatistics),
    layers: Type.Array(CheckpointLayer, { description: 'Every transform of a prediction, in forward order' }),
  },
  { additionalProperties: false },
);
export type CheckpointDocument = Static<typeof CheckpointDocument>;

/** One optimizer slot (Adam's m or v of one variable, momentum's accumulator), named as tfjs names it. */
export interface OptimizerSlot {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Everything besides the weights that resuming needs; kept beside the newest checkpoint only, never served. */
export interface TrainingState {
  format: typeof TRAINING_STATE_FORMAT;
  modelId: string;
  epoch: number;
  optimizer: {
    type: 'sgd' | 'momentum' | 'adam';
    /** steps taken (tfjs's `iter`) */
    iterations: number;
    /** tfjs's slot order: every variable's first slot, then every variable's second */
    slots: OptimizerSlot[];
  };
}

/**
 * The TF.js layers model.json of a model (topology and weights manifest; the manifest points at
 * weights.bin beside it). It depends on the spec only: written once per model, served for every epoch.
 */
export type TfjsModelJson = Record<string, unknown> & {
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
};
