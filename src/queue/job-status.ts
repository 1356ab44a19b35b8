// The BullMQ job -> JobStatus mapping, pure: no Redis here. A job's status is its BullMQ state (with
// the cancel marker telling a cancelled job from a failed one); progress is the processor's last
// report, without invented values: a job that has not trained yet reports epoch 0 and nothing else.
import type { Job } from 'bullmq';
import type { JobStatus, JobStatusName, TrainingJobPayload, TrainingJobProgress, TrainingJobResult } from '../schemas/job.js';
import { CANCELLED_REASON_PREFIX } from './names.js';

export const QUEUED_STATES = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);
export const FINAL_STATUSES = new Set<JobStatusName>(['completed', 'failed', 'cancelled']);

export function isProgress(value: unknown): value is TrainingJobProgress {
  return typeof value === 'object' && value !== null && typeof (value as TrainingJobProgress).epochs === 'number';
}

function iso(ms: number | undefined): string | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
}

/** Drops undefined members: the response schema forbids nothing else, and JSON would drop them anyway. */
export function defined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

export function statusName(state: string, failedReason: string | undefined, cancelled: boolean): JobStatusName | null {
  if (state === 'completed') return 'completed';
  if (state === 'failed') {
    return cancelled || (failedReason ?? '').startsWith(CANCELLED_REASON_PREFIX) ? 'cancelled' : 'failed';
  }
  if (state === 'active') return 'running';
  // A queued job with a marker is one whose removal lost a race; it will never train.
  if (QUEUED_STATES.has(state)) return cancelled ? 'cancelled' : 'queued';
  return null;
}

/** The user-facing progress of a processor report (or of a job that has not reported yet). */
export function toJobProgress(raw: TrainingJobProgress | null, epochs: number): JobStatus['progress'] {
  if (!raw) return { epoch: 0, epochs, lastSavedEpoch: 0 };
  return defined({
    epoch: raw.epoch,
    epochs: raw.epochs,
    batch: raw.batch,
    batches: raw.batches,
    loss: raw.loss,
    valLoss: raw.valLoss,
    accuracy: raw.accuracy,
    valAccuracy: raw.valAccuracy,
    samplesPerSecond: raw.samplesPerSecond,
    lastSavedEpoch: raw.lastSavedEpoch,
  });
}

/** Maps a BullMQ job to the status users read (without history: that is the model's epoch log). */
export function toJobStatus(job: Job<TrainingJobPayload, TrainingJobResult | undefined>, state: string, cancelled: boolean): JobStatus | null {
  const status = statusName(state, job.failedReason, cancelled);
  if (!status) return null;
  const payload = job.data;
  const raw = isProgress(job.progress) ? job.progress : null;
  return defined({
    jobId: String(job.id),
    modelId: payload.modelId,
    status,
    progress: toJobProgress(raw, payload.training.epochs),
    error: status === 'failed' ? job.failedReason || 'training failed' : undefined,
    // The processor's return value: what only the end of a completed job tells.
    stoppedEarly: status === 'completed' ? job.returnvalue?.stoppedEarly : undefined,
    testMetrics: status === 'completed' ? job.returnvalue?.testMetrics : undefined,
    backend: raw?.backend,
    attempts: job.attemptsStarted ?? job.attemptsMade ?? 0,
    createdAt: iso(job.timestamp) ?? payload.submittedAt,
    finishedAt: FINAL_STATUSES.has(status) ? iso(job.finishedOn) : undefined,
  });
}

/** A status updated with a progress report from the queue's event stream (no read of the job). */
export function withProgress(status: JobStatus, progress: TrainingJobProgress): JobStatus {
  return { ...status, status: 'running', progress: toJobProgress(progress, status.progress.epochs), backend: progress.backend };
}
