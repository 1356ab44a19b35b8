// The cancel protocol. A queued job: a marker, then a cancelled record, then the job's removal (the
// record first, so the job is never unknown in between). A running job: the marker (whoever starts or
// runs it from now on sees it: the processor before it starts, the worker's sweep while it runs), a
// pub/sub message to the worker that owns it, then a short wait for it to stop at its next batch.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobStatus, TrainingJobPayload } from '../schemas/job.js';
import { QUEUED_STATES, toJobStatus } from './job-status.js';
import { CANCEL_CHANNEL, RETENTION_SECONDS, cancelMarkerKey, cancelledRecordKey } from './names.js';
import type { Guard } from './redis-guard.js';

/** How long cancel() waits for a running job to stop at its next batch before answering. */
const CANCEL_WAIT_MS = 2000;
const CANCEL_POLL_MS = 100;

export interface CancelDeps {
  redis: Redis;
  queue: Queue<TrainingJobPayload>;
  guard: Guard;
  readJob(jobId: string): Promise<{ job: Parameters<typeof toJobStatus>[0]; state: string } | null>;
  statusOf(jobId: string): Promise<JobStatus | null>;
  readCancelledRecord(jobId: string): Promise<JobStatus | null>;
}

export async function cancelJob(deps: CancelDeps, jobId: string): Promise<JobStatus | null> {
  const { redis, queue, guard } = deps;
  const status = await guard(async () => {
    const read = await deps.readJob(jobId);
    if (!read) return deps.readCancelledRecord(jobId);
    const { job, state } = read;
    const current = toJobStatus(job, state, false);
    if (!current || state === 'completed' || state === 'failed') return current;

    await redis.set(cancelMarkerKey(jobId), new Date().toISOString(), 'EX', RETENTION_SECONDS);
    if (QUEUED_STATES.has(state)) {
      const record: JobStatus = { ...current, status: 'cancelled', finishedAt: new Date().toISOString() };
      await redis.set(cancelledRecordKey(jobId), JSON.stringify(record), 'EX', RETENTION_SECONDS);
      if ((await queue.remove(jobId)) === 1) return record;
      await redis.del(cancelledRecordKey(jobId));
      // Removal refused: a worker took the job in the meantime; cancel it as a running job.
    }
    await redis.publish(CANCEL_CHANNEL, jobId);
    return null;
  });
  if (status) return status;
  // Running: give the worker a moment to stop at its next batch, then report what is true now.
  const deadline = Date.now() + CANCEL_WAIT_MS;
  let latest = await guard(() => deps.statusOf(jobId));
  while (latest?.status === 'running' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, CANCEL_POLL_MS));
    latest = await guard(() => deps.statusOf(jobId));
  }
  return latest;
}
