// The engine's public contract. The engine knows nothing of HTTP, queues or storage: it gets data and
// callbacks, and hands back checkpoint documents for someone else to keep.
import type { ModelSpec, ResolvedTraining } from '../schemas/model-spec.js';
import type { EpochMetrics, TfjsModelJson, TrainingState } from '../schemas/checkpoint.js';
import type { DatasetPart } from '../schemas/dataset.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { StoppedEarly } from '../schemas/training-extras.js';
import type { BnStatsEpoch } from '../schemas/bn-stats.js';

export type { DatasetPart };

/** Rows as JSON carries them; converted once into a DatasetPart (validateDatasetRows, partFromRows). */
export interface Matrix {
  features: number[][];
  labels: number[];
}

/** Within an epoch, every progressEveryBatches batches (epoch ends come with onCheckpoint). */
export interface TrainingProgress {
  /** the epoch being trained (1-based) */
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  valLoss?: number;
  accuracy?: number;
  valAccuracy?: number;
  samplesPerSecond: number;
}

/** One epoch's result, for the caller to store: the checkpoint, the optimizer state to resume from, the TF.js model.json. */
export interface SavedCheckpoint {
  checkpoint: Checkpoint;
  state: TrainingState;
  /** the same for every epoch of a model (it depends on the spec only) */
  tfjs: TfjsModelJson;
  /** batches per epoch */
  batches: number;
  /** the epoch's layer statistics on the probe batch (layer-stats.ts) */
  bnStats: BnStatsEpoch;
}

export interface TrainingStart {
  /** epochs already trained (the resumed checkpoint's epoch, or 0) */
  startEpoch: number;
  epochs: number;
  /** batches per epoch */
  batches: number;
  /** rows of the probe batch the layer statistics are measured on */
  probeRows: number;
  /** a fresh run's epoch 0 (the initialised network) on the probe batch; absent when resuming */
  bnStats?: BnStatsEpoch;
}

export interface TrainArgs {
  modelId: string;
  spec: ModelSpec;
  training: ResolvedTraining;
  /** The training rows (a dataset's train part); its test part is for evaluation, never given here. */
  data: DatasetPart;
  /** Given validation rows; when absent, training.validationSplit holds out the last rows. */
  validation?: DatasetPart;
  /**
   * Continue after this checkpoint: weights, moving statistics, optimizer state and epoch counter;
   * `history` holds the metrics of its epochs (the model's epoch log), which early stopping replays.
   */
  resume?: { checkpoint: Checkpoint; state: TrainingState; history?: EpochMetrics[] };
  /** Checked between batches; an aborted signal ends training with TrainingCancelledError. */
  signal?: AbortSignal;
  /** Once, before the first epoch. */
  onStart?: (start: TrainingStart) => void | Promise<void>;
  onProgress?: (p: TrainingProgress) => void | Promise<void>;
  /** Called after every epoch and awaited before the next one starts. */
  onCheckpoint?: (saved: SavedCheckpoint) => void | Promise<void>;
}

export interface TrainResult {
  epochs: number;
  /** the epochs this call trained (a resumed run's earlier epochs are in the model's epoch log) */
  history: EpochMetrics[];
  last: SavedCheckpoint;
  backend: string;
  /** present when early stopping ended the run before training.epochs */
  stoppedEarly?: StoppedEarly;
}

export type { EpochMetrics };
