// Training options beyond the basic ones: the learning-rate schedule, early stopping and how the BN
// population statistics are estimated. Shared by the request schema and the resolved options.
import { Type, type Static } from 'typebox';

export const LearningRateSchedule = Type.Object(
  {
    type: Type.Optional(
      Type.Enum(['constant', 'step', 'cosine'], {
        default: 'constant',
        description:
          'constant: learningRate every epoch. step: multiplied by `factor` every `stepEpochs` epochs. cosine: from ' +
          'learningRate down to `minLearningRate` along half a cosine over the epochs after the warm-up ' +
          "(PyTorch's CosineAnnealingLR with T_max = those epochs, stepped per epoch)",
      }),
    ),
    stepEpochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 10, description: 'step only' })),
    factor: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.1, description: 'step only: the multiplier at each step' }),
    ),
    minLearningRate: Type.Optional(Type.Number({ minimum: 0, maximum: 100, default: 0, description: 'cosine only: the floor' })),
    warmupEpochs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10_000,
        default: 0,
        description: 'A linear warm-up in front of the schedule: epoch e of N runs at learningRate * e / N',
      }),
    ),
  },
  { additionalProperties: false, description: 'The learning rate of each epoch (every epoch\'s rate is in the history)' },
);
export type LearningRateSchedule = Static<typeof LearningRateSchedule>;

export const EarlyStopping = Type.Object(
  {
    monitor: Type.Optional(
      Type.Enum(['valLoss', 'loss'], { default: 'valLoss', description: 'valLoss needs a validation split' }),
    ),
    patience: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_000, default: 5, description: 'Epochs without improvement before stopping' }),
    ),
    minDelta: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1e6, default: 0, description: 'An improvement is a decrease by more than this' }),
    ),
  },
  { additionalProperties: false, description: 'Stop when the monitored loss has not improved for `patience` epochs (as Keras EarlyStopping)' },
);
export type EarlyStopping = Static<typeof EarlyStopping>;

export const BnStatistics = Type.Enum(['ema', 'precise'], {
  default: 'ema',
  description:
    'ema: the moving averages kept during training (Keras, TF.js, PyTorch). precise: after the last epoch, every BN ' +
    "layer's population mean and variance are recomputed with the final weights over the training rows, layer by " +
    'layer with the layers below in inference mode, replacing the moving averages, which lag the weights',
});
export type BnStatistics = Static<typeof BnStatistics>;
