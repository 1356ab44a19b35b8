// The checkpoint document: every transform a prediction applies, in forward order, so that anyone can
// reproduce a prediction by hand. Written by the engine, kept by the store, served by the API.
import { Type, type Static } from 'typebox';
import { ModelSpec, ResolvedTraining } from './model-spec.js';

export const CHECKPOINT_FORMAT = 'bn-checkpoint/v1';
export const TRAINING_STATE_FORMAT = 'bn-training-state/v1';

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

export const EpochMetrics = Type.Object(
  {
    epoch: Type.Integer({ minimum: 1 }),
    loss: Type.Number(),
    valLoss: Type.Optional(Type.Number()),
    accuracy: Type.Optional(Type.Number({ description: 'Classification only; training batches, batch statistics' })),
    valAccuracy: Type.Optional(Type.Number({ description: 'Classification only; frozen statistics' })),
    samplesPerSecond: Type.Number(),
    durationMs: Type.Number(),
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
    layers: Type.Array(CheckpointLayer, { description: 'Every transform of a prediction, in forward order' }),
  },
  { additionalProperties: false },
);
export type CheckpointDocument = Static<typeof CheckpointDocument>;

/** Everything besides the weights that resuming needs; kept beside the checkpoint, not served by the API. */
export interface TrainingState {
  format: typeof TRAINING_STATE_FORMAT;
  modelId: string;
  epoch: number;
  history: EpochMetrics[];
  optimizer: {
    type: 'sgd' | 'momentum' | 'adam';
    /** tfjs optimizer.getWeights(), by name */
    weights: { name: string; shape: number[]; values: number[] }[];
  };
}

/** The standard TF.js layers artifacts: model.json (weightsManifest points at weights.bin) and the binary. */
export interface TfjsArtifacts {
  modelJson: Record<string, unknown>;
  weightsBin: Uint8Array;
}
