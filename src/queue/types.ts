// The contract between the API and the training queue. The API sees jobs only through this interface.
import type { JobStatus, TrainingJobPayload } from '../schemas/job.js';

/** One update for a job's followers (SSE): the whole current status, so a late client needs nothing else. */
export interface JobEvent {
  type: 'progress' | 'completed' | 'failed' | 'cancelled';
  status: JobStatus;
}

export interface SubmitResult {
  jobId: string;
  modelId: string;
  /** false when an Idempotency-Key matched an earlier submission: nothing new was queued */
  created: boolean;
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
  /** Queues a job. With an idempotency key, a repeated key returns the first job (created: false). */
  submit(payload: TrainingJobPayload, jobId: string, idempotencyKey?: string): Promise<SubmitResult>;
  /** null for an unknown job */
  getStatus(jobId: string): Promise<JobStatus | null>;
  /** Cancels a queued or running job; null for an unknown job. Finished jobs are returned unchanged. */
  cancel(jobId: string): Promise<JobStatus | null>;
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
