// Elapsed time and an estimate of the time left, from what a job reports.
import type { EpochMetrics, JobStatus } from '../api/types.js';

/** Milliseconds since the job was submitted, up to its end when it has finished. */
export function elapsedMs(status: Pick<JobStatus, 'createdAt' | 'finishedAt'>, now: number): number {
  const end = status.finishedAt ? Date.parse(status.finishedAt) : now;
  return Math.max(0, end - Date.parse(status.createdAt));
}

/** Epochs used for the estimate: recent ones reflect the machine's current load better than the first. */
const RECENT = 5;

/**
 * Time left of a running job: the mean duration of its recent epochs times the epochs still to train,
 * less what the current epoch has done (batch / batches). Undefined before the first epoch ends.
 */
export function remainingMs(status: Pick<JobStatus, 'status' | 'progress'>, history: readonly EpochMetrics[]): number | undefined {
  if (status.status !== 'running' && status.status !== 'queued') return undefined;
  const recent = history.slice(-RECENT);
  if (recent.length === 0) return undefined;
  const perEpoch = recent.reduce((sum, m) => sum + m.durationMs, 0) / recent.length;
  const { epoch, epochs, batch, batches } = status.progress;
  const current = batches && batch !== undefined && batch < batches ? batch / batches : 0;
  return Math.max(0, (epochs - epoch - current) * perEpoch);
}

/**
 * Time left from the progress alone (a list has no history): the time per epoch so far, from the job's
 * submission, times the epochs still to train. Cruder than remainingMs (queue time counts as training).
 */
export function remainingFromProgressMs(status: Pick<JobStatus, 'status' | 'progress' | 'createdAt' | 'finishedAt'>, now: number): number | undefined {
  if (status.status !== 'running') return undefined;
  const { epoch, epochs, batch, batches } = status.progress;
  const done = epoch + (batches && batch !== undefined && batch < batches ? batch / batches : 0);
  if (done <= 0) return undefined;
  return Math.max(0, ((epochs - done) * elapsedMs(status, now)) / done);
}
