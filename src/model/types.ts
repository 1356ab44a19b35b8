// The engine's public contract. The engine knows nothing of HTTP, queues or storage: it gets data and
// callbacks, and hands back checkpoint documents for someone else to keep.
import type { ModelSpec, ResolvedTraining } from '../schemas/model-spec.js';
import type { CheckpointDocument, EpochMetrics, TfjsArtifacts, TrainingState } from '../schemas/checkpoint.js';
import type { DatasetPart } from '../schemas/dataset.js';

export type { DatasetPart };

/** Rows as JSON carries them; converted once into a DatasetPart (validateDatasetRows, partFromRows). */
export interface Matrix {
  features: number[][];
  labels: number[];
}

export interface TrainingProgress {
  kind: 'batch' | 'epoch';
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

export interface SavedCheckpoint {
  checkpoint: CheckpointDocument;
  state: TrainingState;
  artifacts: TfjsArtifacts;
}

export interface TrainArgs {
  modelId: string;
  spec: ModelSpec;
  training: ResolvedTraining;
  /** The training rows (a dataset's train part); its test part is for evaluation, never given here. */
  data: DatasetPart;
  /** Given validation rows; when absent, training.validationSplit holds out the last rows. */
  validation?: DatasetPart;
  /** Continue after this checkpoint: weights, moving statistics, optimizer state and epoch counter. */
  resume?: { checkpoint: CheckpointDocument; state: TrainingState };
  /** Checked between batches; an aborted signal ends training with TrainingCancelledError. */
  signal?: AbortSignal;
  onProgress?: (p: TrainingProgress) => void | Promise<void>;
  /** Called after every epoch and awaited before the next one starts. */
  onCheckpoint?: (saved: SavedCheckpoint) => void | Promise<void>;
}

export interface TrainResult {
  epochs: number;
  history: EpochMetrics[];
  last: SavedCheckpoint;
  backend: string;
}

export type { EpochMetrics };
