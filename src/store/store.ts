// Persistence behind one interface: datasets, model records, checkpoints. The filesystem store
// implements it; an object-storage store can later. Every write is atomic (temporary name, then rename).
import type { DatasetData, DatasetInfo } from '../schemas/dataset.js';
import type { ModelSpec, ResolvedTraining } from '../schemas/model-spec.js';
import type { CheckpointDocument, EpochMetrics, TfjsArtifacts, TrainingState } from '../schemas/checkpoint.js';
import type { JobStatusName } from '../schemas/job.js';

export interface ModelRecord {
  modelId: string;
  jobId: string;
  datasetId: string;
  status: JobStatusName;
  spec: ModelSpec;
  training: ResolvedTraining;
  createdAt: string;
  updatedAt: string;
  error?: string;
}

export interface CheckpointSummary {
  epoch: number;
  createdAt: string;
  metrics: EpochMetrics;
}

export type ArtifactName = 'model.json' | 'weights.bin';

export interface Store {
  putDataset(info: DatasetInfo, data: DatasetData): Promise<void>;
  getDatasetInfo(id: string): Promise<DatasetInfo | null>;
  getDatasetData(id: string): Promise<DatasetData | null>;

  putModel(record: ModelRecord): Promise<void>;
  getModel(modelId: string): Promise<ModelRecord | null>;
  /** Newest first. */
  listModels(): Promise<ModelRecord[]>;
  updateModel(modelId: string, patch: Partial<Omit<ModelRecord, 'modelId'>>): Promise<ModelRecord | null>;

  /**
   * Writes artifacts, training state, then the document last: a listed checkpoint is always complete.
   * Synchronous file I/O inside: meant for the training process, whose event loop serves nothing else.
   */
  putCheckpoint(doc: CheckpointDocument, state: TrainingState, artifacts: TfjsArtifacts): Promise<void>;
  /** Ascending by epoch. */
  listCheckpoints(modelId: string): Promise<CheckpointSummary[]>;
  getCheckpoint(modelId: string, epoch: number | 'latest'): Promise<CheckpointDocument | null>;
  getTrainingState(modelId: string, epoch: number): Promise<TrainingState | null>;
  getArtifact(modelId: string, epoch: number, name: ArtifactName): Promise<Uint8Array | null>;

  /** Throws when the store cannot be written. */
  checkWritable(): Promise<void>;
}
