// The contract between the API and the training queue. The API sees jobs only through this interface;
// the queue's job state is the job's status (nothing else keeps a copy).
import type { JobStatus, TrainingJobPayload, TrainingJobProgress } from '../schemas/job.js';

/**
 * One update for a job's followers. `progress` is the processor's report as the queue's event carries it
 * (no read of the job); `status` is a change of state (started, retried, finished), read once.
 */
export type JobEvent =
  | { type: 'progress'; progress: TrainingJobProgress }
  | { type: 'status'; status: JobStatus; final: boolean };

/** What an Idempotency-Key stands for: the first request's body (by hash) and everything it decided. */
export interface IdempotencyClaim {
  bodyHash: string;
  jobId: string;
  modelId: string;
  /** the dataset made from inline data, when the request had some */
  datasetId?: string;
  /** the resolved seed, so that a repeat resolves the same specification */
  seed: number;
  createdAt: string;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  prioritized: number;
}

export interface TrainingQueue {
  /** Queues a job; a job id that is already queued is not queued twice (BullMQ keeps the first). */
  submit(payload: TrainingJobPayload, jobId: string): Promise<void>;
  /** null for an unknown job (never queued, or removed by retention) */
  getStatus(jobId: string): Promise<JobStatus | null>;
  /** Several jobs in one batch of Redis commands; unknown ids are absent from the map. */
  getStatuses(jobIds: readonly string[]): Promise<Map<string, JobStatus>>;
  /** Cancels a queued or running job; null for an unknown job. Finished jobs are returned unchanged. */
  cancel(jobId: string): Promise<JobStatus | null>;
  /** Forgets a job that is not running (its model was deleted). */
  remove(jobId: string): Promise<void>;
  /**
   * Records `claim` under an idempotency key unless the key already holds one, for IDEMPOTENCY_TTL_SECONDS;
   * returns the claim the key holds now (ours, or the earlier request's).
   */
  reserve(keyDigest: string, claim: IdempotencyClaim): Promise<IdempotencyClaim>;
  /** Calls listener for every change of the job until the returned function is called. */
  subscribe(jobId: string, listener: (event: JobEvent) => void): Promise<() => void>;
  /** Calls listener for every change of every job (metrics) until the returned function is called. */
  subscribeAll(listener: (jobId: string, event: JobEvent) => void): Promise<() => void>;
  counts(): Promise<QueueCounts>;
  /** Throws (quickly) when Redis cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown by producers when Redis is unreachable: the API answers 503. */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';
}
