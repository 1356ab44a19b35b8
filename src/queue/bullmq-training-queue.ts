// TrainingQueue on BullMQ: the API's only view of jobs, and the one place their status lives. Every Redis
// failure surfaces as QueueUnavailableError (503), quickly (redis-guard.ts). The status mapping, the cancel
// protocol and the event fan-out are in job-status.ts, cancel.ts and job-events.ts.
import { Queue, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobStatus, TrainingJobPayload } from '../schemas/job.js';
import { settleWithin } from '../util/with-timeout.js';
import { cancelJob } from './cancel.js';
import { closeConnection, createProducerConnection, redactRedisUrl, type ConnectionLogger } from './connection.js';
import { createJobEvents } from './job-events.js';
import { toJobStatus } from './job-status.js';
import {
  EVENTS_MAX_LEN,
  IDEMPOTENCY_TTL_SECONDS,
  QUEUE_NAME,
  QUEUE_PREFIX,
  RETENTION_SECONDS,
  cancelMarkerKey,
  cancelledRecordKey,
  idempotencyKey,
} from './names.js';
import { createRedisGuard } from './redis-guard.js';
import type { IdempotencyClaim, QueueCounts, TrainingQueue } from './types.js';

export interface QueueLogger extends ConnectionLogger {
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface BullmqTrainingQueueOptions {
  redisUrl: string;
  /** Attempts per job (transient errors, lost workers); a retry resumes from the last checkpoint. */
  attempts: number;
  logger?: QueueLogger;
}

type TrainingJob = Job<TrainingJobPayload>;

const PING_TIMEOUT_MS = 1000;
/** Longest wait for Redis on any call: the README's promise that a hung Redis is a 503 within 2.5 s. */
export const OP_TIMEOUT_MS = 2500;
const CLOSE_TIMEOUT_MS = 2000;

function jobOptions(jobId: string, attempts: number): JobsOptions {
  return {
    jobId,
    attempts,
    backoff: { type: 'exponential', delay: 2000 },
    // Finished jobs are the status users read: keep them a week (and at most many).
    removeOnComplete: { age: RETENTION_SECONDS, count: 100_000 },
    removeOnFail: { age: RETENTION_SECONDS, count: 100_000 },
  };
}

export function createBullmqTrainingQueue(opts: BullmqTrainingQueueOptions): TrainingQueue {
  const { redisUrl, attempts, logger } = opts;
  const redis: Redis = createProducerConnection(redisUrl, logger, 'bn-api');
  const queue = new Queue<TrainingJobPayload>(QUEUE_NAME, {
    connection: redis,
    prefix: QUEUE_PREFIX,
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
  });
  // Connection errors also arrive through the client's own listener (connection.ts); this one keeps
  // BullMQ from treating them as unhandled.
  queue.on('error', (err) => logger?.debug({ err: err.message }, 'training queue error'));
  const { guard, close: closeGuard } = createRedisGuard(redis, redactRedisUrl(redisUrl), OP_TIMEOUT_MS);

  async function readCancelledRecord(jobId: string): Promise<JobStatus | null> {
    const text = await redis.get(cancelledRecordKey(jobId));
    return text ? (JSON.parse(text) as JobStatus) : null;
  }

  /**
   * The job and its state, the state read first: BullMQ moves a job and records its outcome (failedReason,
   * finishedOn) in one script, so data read after the state is never older than it. Read the other way
   * round, a job that failed in between came back 'failed' without its reason.
   */
  async function readJob(jobId: string): Promise<{ job: TrainingJob; state: string } | null> {
    const state = await queue.getJobState(jobId);
    const job = (await queue.getJob(jobId)) as TrainingJob | undefined;
    return job ? { job, state } : null;
  }

  async function statusOf(jobId: string): Promise<JobStatus | null> {
    const [read, marker] = await Promise.all([readJob(jobId), redis.exists(cancelMarkerKey(jobId))]);
    if (!read) return readCancelledRecord(jobId);
    return toJobStatus(read.job, read.state, marker === 1);
  }

  const events = createJobEvents({ redisUrl, logger, guard, statusOf });

  return {
    async submit(payload, jobId) {
      await guard(() => queue.add('train', payload, jobOptions(jobId, attempts)));
    },

    getStatus: (jobId) => guard(() => statusOf(jobId)),

    async getStatuses(jobIds) {
      // Issued together: the commands of every job go out before any answer is awaited.
      const statuses = await guard(() => Promise.all(jobIds.map((id) => statusOf(id))));
      const out = new Map<string, JobStatus>();
      statuses.forEach((s, i) => s && out.set(jobIds[i], s));
      return out;
    },

    cancel: (jobId) => cancelJob({ redis, queue, guard, readJob, statusOf, readCancelledRecord }, jobId),

    async remove(jobId) {
      await guard(async () => {
        await queue.remove(jobId);
        await redis.del(cancelMarkerKey(jobId), cancelledRecordKey(jobId));
      });
    },

    async reserve(keyDigest, claim) {
      const key = idempotencyKey(keyDigest);
      return guard(async () => {
        for (let attempt = 0; attempt < 2; attempt++) {
          if ((await redis.set(key, JSON.stringify(claim), 'EX', IDEMPOTENCY_TTL_SECONDS, 'NX')) === 'OK') return claim;
          const held = await redis.get(key);
          if (held) return JSON.parse(held) as IdempotencyClaim;
          // Expired between SET and GET: claim it again.
        }
        throw new Error(`internal: idempotency key ${key} could be neither set nor read`);
      });
    },

    subscribe: events.subscribe,
    subscribeAll: events.subscribeAll,

    async counts(): Promise<QueueCounts> {
      const c = await guard(() => queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'));
      return {
        waiting: c.waiting ?? 0,
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
        prioritized: c.prioritized ?? 0,
      };
    },

    async ping() {
      await guard(() => redis.ping(), PING_TIMEOUT_MS);
    },

    async close() {
      closeGuard();
      await events.close();
      // Bounded: closing a Queue that never connected would otherwise wait for Redis forever. The Queue
      // does not own the shared client: close it ourselves, after the Queue.
      await settleWithin(queue.close(), CLOSE_TIMEOUT_MS);
      await closeConnection(redis);
    },
  };
}
