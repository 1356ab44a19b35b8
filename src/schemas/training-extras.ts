// Training options beyond the basic ones: the learning-rate schedule, early stopping and how the BN
// population statistics are estimated. The request schemas carry the defaults (src/model/spec.ts fills
// them in); the resolved ones are what a job, a model record and a checkpoint hold.
import { Type, type Static } from 'typebox';

const SCHEDULE_TYPES = ['constant', 'step', 'cosine'] as const;
const ScheduleType = Type.Enum(SCHEDULE_TYPES, {
  default: 'constant',
  description:
    'constant: learningRate every epoch. step: multiplied by `factor` every `stepEpochs` epochs. cosine: from ' +
    'learningRate down toward `minLearningRate` along half a cosine over the epochs after the warm-up ' +
    "(PyTorch's CosineAnnealingLR with T_max = those epochs, stepped per epoch)",
});
const StepEpochs = { minimum: 1, maximum: 10_000 };
const Factor = { exclusiveMinimum: 0, maximum: 1 };
const MinLearningRate = { minimum: 0, maximum: 100 };
const WarmupEpochs = { minimum: 0, maximum: 10_000 };

export const LearningRateSchedule = Type.Object(
  {
    type: Type.Optional(ScheduleType),
    stepEpochs: Type.Optional(Type.Integer({ ...StepEpochs, default: 10, description: 'step only: epochs between two steps' })),
    factor: Type.Optional(Type.Number({ ...Factor, default: 0.1, description: 'step only: the multiplier at each step, in (0, 1]' })),
    minLearningRate: Type.Optional(
      Type.Number({ ...MinLearningRate, default: 0, description: 'cosine only: the floor, at most learningRate' }),
    ),
    warmupEpochs: Type.Optional(
      Type.Integer({
        ...WarmupEpochs,
        default: 0,
        description:
          'A linear warm-up in front of the schedule, fewer than the epochs: warm-up epoch e of N runs at ' +
          'learningRate * e / N, and the schedule starts after it',
      }),
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description: "The learning rate of each epoch (every epoch's rate is in the history as `learningRate`)",
  },
);
export type LearningRateSchedule = Static<typeof LearningRateSchedule>;

export const ResolvedLearningRateSchedule = Type.Object(
  {
    type: Type.Enum(SCHEDULE_TYPES),
    stepEpochs: Type.Integer(StepEpochs),
    factor: Type.Number(Factor),
    minLearningRate: Type.Number(MinLearningRate),
    warmupEpochs: Type.Integer(WarmupEpochs),
  },
  { additionalProperties: false },
);
export type ResolvedLearningRateSchedule = Static<typeof ResolvedLearningRateSchedule>;

const MONITORS = ['valLoss', 'loss'] as const;
const Monitor = Type.Enum(MONITORS, {
  default: 'valLoss',
  description: 'The loss watched: valLoss (frozen statistics, needs a validation split) or the training loss',
});
const Patience = { minimum: 1, maximum: 10_000 };
const MinDelta = { minimum: 0, maximum: 1e6 };

export const EarlyStopping = Type.Object(
  {
    monitor: Type.Optional(Monitor),
    patience: Type.Optional(Type.Integer({ ...Patience, default: 5, description: 'Epochs without an improvement before stopping' })),
    minDelta: Type.Optional(
      Type.Number({ ...MinDelta, default: 0, description: 'An improvement is a decrease of the monitored loss by more than this' }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Stop once the monitored loss has not improved for `patience` epochs (as Keras EarlyStopping); the job ends ' +
      'completed with `stoppedEarly`, and retention keeps the best checkpoint by the same loss. Absent: every epoch trains',
  },
);
export type EarlyStopping = Static<typeof EarlyStopping>;

export const ResolvedEarlyStopping = Type.Object(
  { monitor: Type.Enum(MONITORS), patience: Type.Integer(Patience), minDelta: Type.Number(MinDelta) },
  { additionalProperties: false },
);
export type ResolvedEarlyStopping = Static<typeof ResolvedEarlyStopping>;

const BN_STATISTICS = ['ema', 'precise'] as const;
export const BnStatistics = Type.Enum(BN_STATISTICS, {
  default: 'ema',
  description:
    'ema: the moving averages kept during training (Keras, TF.js, PyTorch). precise: after the last epoch, every BN ' +
    "layer's population mean and variance are recomputed with the final weights over the training rows, layer by " +
    'layer with the layers below in inference mode, replacing the moving averages, which lag the weights',
});
export type BnStatistics = Static<typeof BnStatistics>;
export const ResolvedBnStatistics = Type.Enum(BN_STATISTICS);

/** What a checkpoint's BN layers hold; absent in checkpoints of earlier versions (ema) and of models without BN. */
export const CheckpointBnStatistics = Type.Enum(BN_STATISTICS, {
  description:
    "ema: every BN layer's movingMean and movingVariance are the moving averages of training. precise: they were " +
    'recomputed over the training rows with the final weights (training.bnStatistics precise; the last checkpoint only)',
});

/** How a job that early stopping ended, ended. */
export const StoppedEarly = Type.Object(
  {
    epoch: Type.Integer({ minimum: 1, description: 'The last epoch trained (the job planned more)' }),
    bestEpoch: Type.Integer({
      minimum: 1,
      description: 'The epoch of the lowest monitored loss (later epochs win ties): the checkpoint retention keeps as the best',
    }),
    monitor: Type.Enum(MONITORS),
    best: Type.Number({ description: 'The monitored loss of bestEpoch' }),
  },
  { additionalProperties: false, description: 'Present when early stopping ended the job before its planned epochs' },
);
export type StoppedEarly = Static<typeof StoppedEarly>;
