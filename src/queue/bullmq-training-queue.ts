// TrainingQueue on BullMQ: the API's only view of jobs. Every Redis failure surfaces as
// QueueUnavailableError (503), quickly: the producer connection has no offline queue, and every call is
// refused at once while the connection is not ready, so nothing is queued up to run after the 503.
import { createHash } from 'node:crypto';
import { Queue, QueueEvents, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobStatus, JobStatusName, TrainingJobPayload, TrainingJobProgress } from '../schemas/job.js';
import {
  QueueUnavailableError,
  type JobEvent,
  type QueueCounts,
  type SubmitResult,
  type TrainingQueue,
} from './types.js';
import {
  closeConnection,
  createProducerConnection,
  createWorkerConnection,
  redactRedisUrl,
  type ConnectionLogger,
} from './connection.js';
import {
  CANCEL_CHANNEL,
  CANCELLED_REASON_PREFIX,
  IDEMPOTENCY_TTL_SECONDS,
  QUEUE_NAME,
  QUEUE_PREFIX,
  RETENTION_SECONDS,
  cancelMarkerKey,
  cancelledRecordKey,
  idempotencyKey,
} from './names.js';

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
const OP_TIMEOUT_MS = 2500;
/** How long cancel() waits for a running job to stop at its next batch before answering. */
const CANCEL_WAIT_MS = 2000;
const QUEUED_STATES = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

/** Exposed for the worker-side tests and for metrics: the BullMQ options every job gets. */
export function jobOptions(jobId: string, attempts: number): JobsOptions {
  return {
    jobId,
    attempts,
    backoff: { type: 'exponential', delay: 2000 },
    // Finished jobs are the status and history users read: keep them a week (and at most many).
    removeOnComplete: { age: RETENTION_SECONDS, count: 100_000 },
    removeOnFail: { age: RETENTION_SECONDS, count: 100_000 },
  };
}

function isProgress(value: unknown): value is TrainingJobProgress {
  return typeof value === 'object' && value !== null && typeof (value as TrainingJobProgress).epochs === 'number';
}

function iso(ms: number | undefined): string | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
}

/** Drops undefined members: the response schema forbids nothing else, and JSON would drop them anyway. */
function defined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

function zeroProgress(epochs: number): JobStatus['progress'] {
  return { epoch: 0, epochs, batch: 0, batches: 0, loss: 0, samplesPerSecond: 0, lastSavedEpoch: 0 };
}

function statusName(state: string, failedReason: string | undefined, cancelled: boolean): JobStatusName | null {
  if (state === 'completed') return 'completed';
  if (state === 'failed') {
    return cancelled || (failedReason ?? '').startsWith(CANCELLED_REASON_PREFIX) ? 'cancelled' : 'failed';
  }
  if (state === 'active') return 'running';
  // A queued job with a marker is one whose removal lost a race; it will never train.
  if (QUEUED_STATES.has(state)) return cancelled ? 'cancelled' : 'queued';
  return null;
}

/** Maps a BullMQ job to the status users read. */
export function toJobStatus(job: TrainingJob, state: string, cancelled: boolean): JobStatus | null {
  const status = statusName(state, job.failedReason, cancelled);
  if (!status) return null;
  const payload = job.data;
  const raw = isProgress(job.progress) ? job.progress : null;
  const progress = raw
    ? defined({
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
      })
    : zeroProgress(payload.training.epochs);
  const finished = status === 'completed' || status === 'failed' || status === 'cancelled';
  return defined({
    jobId: String(job.id),
    modelId: payload.modelId,
    status,
    progress,
    history: raw?.history ?? [],
    error: status === 'failed' ? job.failedReason || 'training failed' : undefined,
    backend: raw?.backend,
    attempts: job.attemptsStarted ?? job.attemptsMade ?? 0,
    createdAt: iso(job.timestamp) ?? new Date(0).toISOString(),
    finishedAt: finished ? (iso(job.finishedOn) ?? new Date().toISOString()) : undefined,
  });
}

/** Waits for p at most ms; errors are swallowed (used on shutdown only). */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** Errors that mean Redis cannot be reached or did not answer in time (ours from guard(), or ioredis'). */
function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN)$/.test(code) ||
    err.name === 'MaxRetriesPerRequestError' ||
    /^connection |not connected within|no answer within|max retries|Connection is closed|Stream isn't writeable|enableOfflineQueue|LOADING|connect /i.test(err.message)
  );
}

function eventType(status: JobStatus): JobEvent['type'] {
  if (status.status === 'completed' || status.status === 'failed' || status.status === 'cancelled') return status.status;
  return 'progress';
}

export function createBullmqTrainingQueue(opts: BullmqTrainingQueueOptions): TrainingQueue {
  const { redisUrl, attempts, logger } = opts;
  const where = redactRedisUrl(redisUrl);
  const redis: Redis = createProducerConnection(redisUrl, logger, 'bn-api');
  const queue = new Queue<TrainingJobPayload>(QUEUE_NAME, { connection: redis, prefix: QUEUE_PREFIX });
  // Connection errors also arrive through the client's own listener (connection.ts); this one keeps
  // BullMQ from treating them as unhandled.
  queue.on('error', (err) => logger?.debug({ err: err.message }, 'training queue error'));

  // Lazily created on the first subscription: the API needs it only for SSE and metrics.
  let events: { qe: QueueEvents; template: Redis } | null = null;
  let eventsReady: Promise<void> | null = null;
  const listeners = new Map<string, Set<(event: JobEvent) => void>>();
  const allListeners = new Set<(jobId: string, event: JobEvent) => void>();
  const chains = new Map<string, Promise<void>>();
  let closed = false;
  let everReady = false;
  redis.once('ready', () => {
    everReady = true;
  });

  /** Connection trouble becomes QueueUnavailableError (503); anything else is a bug and stays what it is (500). */
  function unavailable(cause: unknown): Error {
    if (cause instanceof QueueUnavailableError) return cause;
    if (!isConnectionError(cause)) return cause instanceof Error ? cause : new Error(String(cause));
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new QueueUnavailableError(
      `training queue unavailable: Redis at ${where} cannot be reached (${detail}); retry later, and check REDIS_URL and that Redis is running`,
    );
  }

  /** Resolves once the first connection is up (bounded): a fresh process must not answer 503 to its first call. */
  function firstConnect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        reject(new Error(`not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      redis.once('ready', onReady);
    });
  }

  /**
   * Runs op against Redis: refused at once while reconnecting (so nothing waits to run after the 503),
   * bounded in time otherwise.
   */
  async function guard<T>(op: () => Promise<T>, timeoutMs = OP_TIMEOUT_MS): Promise<T> {
    if (closed) throw new QueueUnavailableError('training queue is closed (the service is shutting down); retry later');
    let timer: NodeJS.Timeout | undefined;
    try {
      if (redis.status !== 'ready') {
        if (everReady || !['wait', 'connecting', 'connect'].includes(redis.status)) {
          throw new Error(`connection ${redis.status}`);
        }
        await firstConnect(Math.min(timeoutMs, 1000));
      }
      return await Promise.race([
        op(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      throw unavailable(err);
    } finally {
      clearTimeout(timer);
    }
  }

  async function readCancelledRecord(jobId: string): Promise<JobStatus | null> {
    const text = await redis.get(cancelledRecordKey(jobId));
    return text ? (JSON.parse(text) as JobStatus) : null;
  }

  /**
   * The job and its state, the state read first: BullMQ moves a job and records its outcome (failedReason,
   * finishedOn) in one script, so data read after the state is never older than it. Read the other way
   * round, a job that failed in between came back 'failed' without its reason ('training failed').
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

  async function submit(payload: TrainingJobPayload, jobId: string, key?: string): Promise<SubmitResult> {
    return guard(async () => {
      let idemKey: string | null = null;
      if (key !== undefined) {
        idemKey = idempotencyKey(createHash('sha256').update(key).digest('hex'));
        const claim = JSON.stringify({ jobId, modelId: payload.modelId });
        const set = await redis.set(idemKey, claim, 'EX', IDEMPOTENCY_TTL_SECONDS, 'NX');
        if (set !== 'OK') {
          const first = await redis.get(idemKey);
          if (first) {
            const prior = JSON.parse(first) as { jobId: string; modelId: string };
            return { jobId: prior.jobId, modelId: prior.modelId, created: false };
          }
          // Expired between SET and GET: claim it now.
          await redis.set(idemKey, claim, 'EX', IDEMPOTENCY_TTL_SECONDS);
        }
      }
      try {
        await queue.add('train', payload, jobOptions(jobId, attempts));
      } catch (err) {
        // Release the key so that the client's retry queues the job instead of pointing at nothing.
        if (idemKey) await redis.del(idemKey).catch(() => undefined);
        throw err;
      }
      return { jobId, modelId: payload.modelId, created: true };
    });
  }

  async function cancel(jobId: string): Promise<JobStatus | null> {
    const status = await guard(async () => {
      const read = await readJob(jobId);
      if (!read) return readCancelledRecord(jobId);
      const { job, state } = read;
      const current = toJobStatus(job, state, false);
      if (!current || state === 'completed' || state === 'failed') return current;

      // The marker first: whoever starts this job from now on sees it and stops (processor, worker sweep).
      await redis.set(cancelMarkerKey(jobId), new Date().toISOString(), 'EX', RETENTION_SECONDS);
      if (QUEUED_STATES.has(state)) {
        const record: JobStatus = { ...current, status: 'cancelled', finishedAt: new Date().toISOString() };
        // The record before the removal, so that the job is never unknown in between.
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
    let latest = await guard(() => statusOf(jobId));
    while (latest?.status === 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      latest = await guard(() => statusOf(jobId));
    }
    return latest;
  }

  /**
   * terminal: the event itself ends the job (completed, failed, removed). A progress event whose fetch
   * already sees the job finished is dropped, so that each follower gets exactly one final event.
   */
  function dispatch(jobId: string, terminal: boolean): void {
    if (!listeners.has(jobId) && allListeners.size === 0) return;
    // One fetch per event, in order per job, so a follower never sees an older status after a newer one.
    const previous = chains.get(jobId) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        if (redis.status !== 'ready') return;
        const status = await statusOf(jobId);
        if (!status) return;
        const type = eventType(status);
        if (type !== 'progress' && !terminal) return;
        const event: JobEvent = { type, status };
        for (const listener of listeners.get(jobId) ?? []) safeCall(() => listener(event));
        for (const listener of allListeners) safeCall(() => listener(jobId, event));
      })
      .catch((err: unknown) => logger?.debug({ jobId, err: (err as Error).message }, 'job event not delivered'))
      .finally(() => {
        if (chains.get(jobId) === next) chains.delete(jobId);
      });
    chains.set(jobId, next);
  }

  function safeCall(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      logger?.error({ err: (err as Error).message }, 'job event listener threw');
    }
  }

  async function ensureEvents(): Promise<void> {
    if (!events) {
      const template = createWorkerConnection(redisUrl, logger, 'bn-api-events');
      const qe = new QueueEvents(QUEUE_NAME, { connection: template, prefix: QUEUE_PREFIX });
      qe.on('error', (err) => logger?.debug({ err: err.message }, 'queue events error'));
      for (const name of ['active', 'progress', 'waiting', 'delayed'] as const) {
        qe.on(name, (args: { jobId: string }) => dispatch(args.jobId, false));
      }
      for (const name of ['completed', 'failed', 'removed'] as const) {
        qe.on(name, (args: { jobId: string }) => dispatch(args.jobId, true));
      }
      const current = { qe, template };
      const ready = qe.waitUntilReady();
      events = current;
      eventsReady = ready;
      // Redis down at start: forget this QueueEvents so that the next subscriber tries again (and the
      // rejection is handled here, never left to crash the process).
      ready.catch(async (err: unknown) => {
        logger?.warn({ err: (err as Error).message }, 'queue events not connected; will retry on the next subscription');
        if (events !== current) return;
        events = null;
        eventsReady = null;
        await within(qe.close(), 2000);
        await closeConnection(template);
      });
    }
    const ready = eventsReady as Promise<void>;
    await guard(() => ready);
  }

  async function subscribe(jobId: string, listener: (event: JobEvent) => void): Promise<() => void> {
    await ensureEvents();
    let set = listeners.get(jobId);
    if (!set) listeners.set(jobId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && listeners.get(jobId) === set) listeners.delete(jobId);
    };
  }

  async function subscribeAll(listener: (jobId: string, event: JobEvent) => void): Promise<() => void> {
    await ensureEvents();
    allListeners.add(listener);
    return () => {
      allListeners.delete(listener);
    };
  }

  async function counts(): Promise<QueueCounts> {
    const c = await guard(() =>
      queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'),
    );
    return {
      waiting: c.waiting ?? 0,
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
      prioritized: c.prioritized ?? 0,
    };
  }

  async function ping(): Promise<void> {
    await guard(() => redis.ping(), PING_TIMEOUT_MS);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    listeners.clear();
    allListeners.clear();
    // Bounded: closing a Queue that never connected would otherwise wait for Redis forever.
    if (events) {
      await within(events.qe.close(), 2000);
      await closeConnection(events.template);
    }
    // The Queue does not own the shared client: close it ourselves, after the Queue.
    await within(queue.close(), 2000);
    await closeConnection(redis);
  }

  return {
    submit,
    getStatus: (jobId) => guard(() => statusOf(jobId)),
    cancel,
    subscribe,
    subscribeAll,
    counts,
    ping,
    close,
  };
}
