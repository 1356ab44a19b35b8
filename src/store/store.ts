// Persistence behind one interface: datasets, model records, checkpoints. The filesystem store
// implements it; an object-storage store can later. Every write is atomic (temporary name, then rename).
import type { DatasetData, DatasetInfo, DatasetPart, FeatureType, PartName } from '../schemas/dataset.js';
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

/** An append-only file being written; close() flushes and fsyncs it. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * A dataset being streamed in: each array goes to a file of its own in a staging area, and commit()
 * publishes them with the info, atomically (a reader sees the whole dataset or none of it).
 */
export interface DatasetWriter {
  readonly id: string;
  openFeatures(part: PartName, type: FeatureType): Promise<ByteSink>;
  /** Labels are float32. */
  openLabels(part: PartName): Promise<ByteSink>;
  /** Checks that the files hold what `info` says (rows x features of its storage types), then publishes. */
  commit(info: DatasetInfo): Promise<void>;
  /** Removes everything written so far; safe to call twice or after a failed commit, a no-op after a successful one. */
  abort(): Promise<void>;
}

/** Consecutive rows of one stored part, read from disk on demand. */
export interface PartReader {
  readonly rows: number;
  readonly features: number;
  /** Rows [from, to). */
  read(from: number, to: number): Promise<DatasetPart>;
  close(): Promise<void>;
}

export interface Store {
  /** Stores a dataset held in memory (through a DatasetWriter). */
  putDataset(info: DatasetInfo, data: DatasetData): Promise<void>;
  createDatasetWriter(id: string): Promise<DatasetWriter>;
  getDatasetInfo(id: string): Promise<DatasetInfo | null>;
  /** Every part in memory (what training needs). */
  getDatasetData(id: string): Promise<DatasetData | null>;
  /** One part, read in chunks (what evaluation needs); null when the dataset or the part does not exist. */
  openDatasetPart(id: string, part: PartName): Promise<PartReader | null>;
  /** Newest first. */
  listDatasets(): Promise<DatasetInfo[]>;
  /** The dataset disappears (its info first), then its files go; false when there was none. */
  deleteDataset(id: string): Promise<boolean>;

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
