// Fan-out of the queue's events to followers (SSE streams, metrics): one QueueEvents reader per API
// process, created on the first subscription. A progress event is passed on as its payload says, with
// no read of the job; a change of state (started, retried, finished) is read once, in order per job, so
// a follower never sees an older state after a newer one and gets exactly one final event.
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobStatus } from '../schemas/job.js';
import { settleWithin } from '../util/with-timeout.js';
import { closeConnection, createWorkerConnection, type ConnectionLogger } from './connection.js';
import { FINAL_STATUSES, isProgress } from './job-status.js';
import { QUEUE_NAME, QUEUE_PREFIX } from './names.js';
import type { Guard } from './redis-guard.js';
import type { JobEvent } from './types.js';

export interface EventsLogger extends ConnectionLogger {
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface JobEventsDeps {
  redisUrl: string;
  logger?: EventsLogger;
  guard: Guard;
  /** The job's current status (one read); null when unknown. */
  statusOf(jobId: string): Promise<JobStatus | null>;
}

export interface JobEvents {
  subscribe(jobId: string, listener: (event: JobEvent) => void): Promise<() => void>;
  subscribeAll(listener: (jobId: string, event: JobEvent) => void): Promise<() => void>;
  close(): Promise<void>;
}

const CLOSE_TIMEOUT_MS = 2000;

export function createJobEvents({ redisUrl, logger, guard, statusOf }: JobEventsDeps): JobEvents {
  let events: { qe: QueueEvents; template: Redis } | null = null;
  let eventsReady: Promise<void> | null = null;
  const listeners = new Map<string, Set<(event: JobEvent) => void>>();
  const allListeners = new Set<(jobId: string, event: JobEvent) => void>();
  const chains = new Map<string, Promise<void>>();

  function deliver(jobId: string, event: JobEvent): void {
    for (const listener of listeners.get(jobId) ?? []) safeCall(() => listener(event));
    for (const listener of allListeners) safeCall(() => listener(jobId, event));
  }

  function safeCall(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      logger?.error({ err: (err as Error).message }, 'job event listener threw');
    }
  }

  /** Runs `step` after the job's previous events, so that each job's followers see them in order. */
  function inOrder(jobId: string, step: () => Promise<void> | void): void {
    if (!listeners.has(jobId) && allListeners.size === 0) return;
    const next = (chains.get(jobId) ?? Promise.resolve())
      .then(step)
      .catch((err: unknown) => logger?.debug({ jobId, err: (err as Error).message }, 'job event not delivered'))
      .finally(() => {
        if (chains.get(jobId) === next) chains.delete(jobId);
      });
    chains.set(jobId, next);
  }

  /** terminal: the event itself ends the job (completed, failed, removed); else a final state read is dropped. */
  function stateChanged(jobId: string, terminal: boolean): void {
    inOrder(jobId, async () => {
      const status = await guard(() => statusOf(jobId));
      if (!status) return;
      const final = FINAL_STATUSES.has(status.status);
      if (final && !terminal) return;
      deliver(jobId, { type: 'status', status, final });
    });
  }

  async function ensureEvents(): Promise<void> {
    if (!events) {
      const template = createWorkerConnection(redisUrl, logger, 'bn-api-events');
      const qe = new QueueEvents(QUEUE_NAME, { connection: template, prefix: QUEUE_PREFIX });
      qe.on('error', (err) => logger?.debug({ err: err.message }, 'queue events error'));
      qe.on('progress', ({ jobId, data }: { jobId: string; data: unknown }) => {
        if (isProgress(data)) inOrder(jobId, () => deliver(jobId, { type: 'progress', progress: data }));
      });
      for (const name of ['active', 'waiting', 'delayed'] as const) {
        qe.on(name, (args: { jobId: string }) => stateChanged(args.jobId, false));
      }
      for (const name of ['completed', 'failed', 'removed'] as const) {
        qe.on(name, (args: { jobId: string }) => stateChanged(args.jobId, true));
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
        await settleWithin(qe.close(), CLOSE_TIMEOUT_MS);
        await closeConnection(template);
      });
    }
    const ready = eventsReady as Promise<void>;
    await guard(() => ready);
  }

  return {
    async subscribe(jobId, listener) {
      await ensureEvents();
      let set = listeners.get(jobId);
      if (!set) listeners.set(jobId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(jobId) === set) listeners.delete(jobId);
      };
    },

    async subscribeAll(listener) {
      await ensureEvents();
      allListeners.add(listener);
      return () => {
        allListeners.delete(listener);
      };
    },

    async close() {
      listeners.clear();
      allListeners.clear();
      if (!events) return;
      // Bounded: closing a QueueEvents that never connected would otherwise wait for Redis forever.
      await settleWithin(events.qe.close(), CLOSE_TIMEOUT_MS);
      await closeConnection(events.template);
    },
  };
}
