// Persistence behind one interface: datasets, model records, checkpoints, the per-epoch log and aliases.
// The filesystem store implements it; an object-storage store can later. Every write is atomic
// (temporary name, fsync, rename, fsync of the directory).
import type { DatasetData, DatasetInfo, DatasetPart, FeatureType, PartName } from '../schemas/dataset.js';
import type { ModelSpec, ResolvedTraining } from '../schemas/model-spec.js';
import type { EpochMetrics, TfjsModelJson, TrainingState } from '../schemas/checkpoint.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { CheckpointRef } from '../schemas/checkpoint-ref.js';
import type { ExperimentRecord } from '../schemas/experiment.js';
import type { BnStatsEpoch } from '../schemas/bn-stats.js';
import type { TestMetrics } from '../schemas/evaluation.js';

/**
 * What describes a model; written at submission, and by its training job with what describes the
 * trained weights (the probe batch's size, the test metrics). Its job's status and error live in the
 * queue only (GET /v1/models reads them from there), so nothing here can disagree with the job.
 */
export interface ModelRecord {
  modelId: string;
  jobId: string;
  datasetId: string;
  spec: ModelSpec;
  training: ResolvedTraining;
  createdAt: string;
  updatedAt: string;
  /** rows of the probe batch of the BN statistics log, once training started */
  probeRows?: number;
  /** the job's evaluation of its last checkpoint on the dataset's test part, once it completed */
  testMetrics?: TestMetrics;
}

export interface CheckpointSummary {
  epoch: number;
  createdAt: string;
  metrics: EpochMetrics;
}

export type ArtifactName = 'model.json' | 'weights.bin';

/** Which checkpoints retention keeps (training.checkpoints, resolved), and what "best" means. */
export interface RetentionPolicy {
  keepLast: number;
  keepBest: number;
  /** valLoss with a validation split, else loss; lower is better */
  by: 'valLoss' | 'loss';
}

/** Records of a JSON-lines log read from a byte offset. */
export interface LogRead<T> {
  records: T[];
  /** where the next read continues (bytes); a shorter file than this means it was rewritten: read from 0 */
  nextByte: number;
}

export type EpochLogRead = LogRead<EpochMetrics>;

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
  /** Rewrites the record of a model that still exists; ModelGoneError once it is deleted (never recreates it). */
  updateModel(record: ModelRecord): Promise<void>;
  getModel(modelId: string): Promise<ModelRecord | null>;
  /** Newest first (createdAt, then modelId, both descending). */
  listModels(): Promise<ModelRecord[]>;
  /**
   * Makes the model disappear at once (its directory is renamed out of the listing), then removes its
   * files. Readers that already opened a file finish reading it; others find nothing. false when unknown.
   */
  deleteModel(modelId: string): Promise<boolean>;

  /**
   * Writes the epoch's weights, training state and document into a new directory renamed into place
   * (checkpoint.json written last), then drops the training state of older epochs: only the newest
   * checkpoint is resumed from. `tfjs` is the model's TF.js model.json, written once per model; weights.bin
   * follows its manifest. Synchronous file I/O inside: meant for the training process, whose event loop
   * serves nothing else. Throws ModelGoneError when the model was deleted.
   */
  putCheckpoint(checkpoint: Checkpoint, state: TrainingState, tfjs?: TfjsModelJson): Promise<void>;
  /** Ascending by epoch. */
  listCheckpoints(modelId: string): Promise<CheckpointSummary[]>;
  /**
   * The epoch an epoch number, `latest` (the newest), `best` (bestCheckpoint's) or an alias names, when
   * that checkpoint exists; else null.
   */
  resolveEpoch(modelId: string, ref: CheckpointRef): Promise<number | null>;
  /** The checkpoint with its tensors (served from a bounded in-process cache; treat it as read-only). */
  getCheckpoint(modelId: string, epoch: number): Promise<Checkpoint | null>;
  /** True while the epoch's checkpoint is listed (a cheap check: no document is read). */
  hasCheckpoint(modelId: string, epoch: number): Promise<boolean>;
  /** The optimizer state saved with the epoch; only the newest checkpoint keeps one. */
  getTrainingState(modelId: string, epoch: number): Promise<TrainingState | null>;
  getArtifact(modelId: string, epoch: number, name: ArtifactName): Promise<Uint8Array | null>;
  /**
   * Applies retention: keeps the newest checkpoint, the last keepLast, the keepBest best and every aliased
   * one; a pruned checkpoint leaves the listing before its files are removed. Returns the pruned epochs;
   * [] when aliases are being changed at this moment (the next call prunes). Synchronous inside.
   */
  pruneCheckpoints(modelId: string, policy: RetentionPolicy): Promise<number[]>;

  /** Appends one epoch's metrics to the model's epoch log, durably (fsync). Synchronous inside. */
  appendEpoch(modelId: string, metrics: EpochMetrics): Promise<void>;
  /** The epoch log from `fromByte` (complete lines only). */
  readEpochs(modelId: string, fromByte?: number): Promise<EpochLogRead>;
  /**
   * Makes the log hold epochs 1..lastSaved exactly once, after any crash: drops a torn last line, repeats
   * and epochs past lastSaved, and adds lastSaved's metrics (from its checkpoint) when its line is missing.
   */
  reconcileEpochs(modelId: string, lastSaved: number, lastMetrics?: EpochMetrics): Promise<EpochMetrics[]>;

  /** Appends one epoch's BN statistics to the model's log, durably (fsync). Synchronous inside. */
  appendBnStats(modelId: string, stats: BnStatsEpoch): Promise<void>;
  /** The model's BN statistics log, epoch 0 first ([] for an unknown model or one that has not started). */
  bnStats(modelId: string): Promise<BnStatsEpoch[]>;
  /**
   * Makes the log hold epochs 0..lastSaved at most once each, in order, after any crash (a torn last line,
   * repeats and epochs past lastSaved go). A missing lastSaved line is the caller's to append.
   */
  reconcileBnStats(modelId: string, lastSaved: number): Promise<BnStatsEpoch[]>;

  /** Alias name -> epoch. */
  getAliases(modelId: string): Promise<Record<string, number>>;
  /**
   * Throws AliasTargetError when the checkpoint does not exist (or is being pruned): never an alias to
   * nothing. The aliases are rewritten atomically: a reader sees them before or after, never between.
   */
  setAlias(modelId: string, name: string, epoch: number): Promise<void>;
  /** false when there was no such alias. */
  deleteAlias(modelId: string, name: string): Promise<boolean>;

  /** Written once, at creation (the variants' statuses live in the queue). */
  putExperiment(record: ExperimentRecord): Promise<void>;
  getExperiment(experimentId: string): Promise<ExperimentRecord | null>;
  /** Newest first (createdAt, then experimentId, both descending). */
  listExperiments(): Promise<ExperimentRecord[]>;
  /** Removes the record only (its variants' models stay); false when unknown. */
  deleteExperiment(experimentId: string): Promise<boolean>;

  /** Throws when the store cannot be written. */
  checkWritable(): Promise<void>;
}

/**
 * A model's lock stayed taken for longer than a caller waits (another process is changing its aliases or
 * pruning its checkpoints, or died holding it: a stale lock is broken after STALE_MS). Retrying helps.
 */
export class ModelBusyError extends Error {
  override name = 'ModelBusyError';
  constructor(
    readonly modelId: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`model ${modelId} is being changed by another process (its aliases or its checkpoints); retry in ${retryAfterSeconds} s`);
  }
}

/** The model's directory is gone: it was deleted while a job still wrote to it. */
export class ModelGoneError extends Error {
  override name = 'ModelGoneError';
  constructor(readonly modelId: string) {
    super(`model ${modelId} was deleted; its job stops`);
  }
}

/** An alias was asked to point at a checkpoint that does not exist. */
export class AliasTargetError extends Error {
  override name = 'AliasTargetError';
  constructor(
    readonly modelId: string,
    readonly epoch: number,
  ) {
    super(`model ${modelId} has no checkpoint for epoch ${epoch} (never saved, or pruned by retention)`);
  }
}
