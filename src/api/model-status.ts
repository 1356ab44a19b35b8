// A model's status is its training job's, read from the queue (one batch for a list). What a model
// shows when the queue cannot say is `unknown` with a note, never a guess: Redis is unreachable (model
// reads and predictions keep working without it), or the queue no longer keeps the job (retention).
import type { FastifyBaseLogger } from 'fastify';
import type { TrainingQueue } from '../queue/types.js';
import { QueueUnavailableError } from '../queue/types.js';
import { RETENTION_SECONDS } from '../queue/names.js';
import type { JobStatus, JobStatusName } from '../schemas/job.js';

export interface ModelStatusView {
  status: JobStatusName | 'unknown';
  error?: string;
  statusNote?: string;
}

const UNREACHABLE = 'the job queue (Redis) cannot be reached right now; the status is back when it is';
const EXPIRED = `the job queue no longer keeps this job (finished jobs are kept ${RETENTION_SECONDS / 86_400} days)`;

export function viewOf(job: JobStatus | undefined | null): ModelStatusView {
  if (!job) return { status: 'unknown', statusNote: EXPIRED };
  return job.error === undefined ? { status: job.status } : { status: job.status, error: job.error };
}

/** The status of each job, looked up in one batch; every one unknown (with a logged reason) when Redis is down. */
export async function modelStatuses(queue: TrainingQueue, jobIds: readonly string[], log: FastifyBaseLogger): Promise<(jobId: string) => ModelStatusView> {
  if (jobIds.length === 0) return () => viewOf(null);
  try {
    const jobs = await queue.getStatuses(jobIds);
    return (jobId) => viewOf(jobs.get(jobId));
  } catch (err) {
    if (!(err instanceof QueueUnavailableError)) throw err;
    log.warn({ err: err.message }, 'model status unknown: the queue is unavailable');
    return () => ({ status: 'unknown', statusNote: UNREACHABLE });
  }
}
