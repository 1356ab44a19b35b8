// The producer's guard around Redis: every call is refused at once while the connection is down (so
// nothing waits to run after the 503), and bounded in time otherwise (a server that accepts but never
// answers). Connection trouble becomes QueueUnavailableError (503); anything else is a bug and stays
// what it is (500).
import type { Redis } from 'ioredis';
import { withTimeout } from '../util/with-timeout.js';
import { QueueUnavailableError } from './types.js';

/** Errors that mean Redis cannot be reached or did not answer in time (ours, or ioredis'). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return (
    err.name === 'TimeoutError' ||
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN)$/.test(code) ||
    err.name === 'MaxRetriesPerRequestError' ||
    /^connection |not connected within|no answer within|max retries|Connection is closed|Stream isn't writeable|enableOfflineQueue|LOADING|connect |Command timed out/i.test(
      err.message,
    )
  );
}

export type Guard = <T>(op: () => Promise<T>, timeoutMs?: number) => Promise<T>;

export interface RedisGuard {
  guard: Guard;
  /** Refuse every call from now on (the queue is closing). */
  close(): void;
}

export function createRedisGuard(redis: Redis, where: string, defaultTimeoutMs: number): RedisGuard {
  let closed = false;
  let everReady = false;
  redis.once('ready', () => {
    everReady = true;
  });

  function classifyRedisError(cause: unknown): Error {
    if (cause instanceof QueueUnavailableError) return cause;
    if (!isConnectionError(cause)) return cause instanceof Error ? cause : new Error(String(cause));
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new QueueUnavailableError(
      `training queue unavailable: Redis at ${where} cannot be reached (${detail}); retry later, and check REDIS_URL and that Redis is running`,
    );
  }

  /** Resolves once the first connection is up (bounded): a fresh process must not answer 503 to its first call. */
  function firstConnect(timeoutMs: number): Promise<void> {
    let onReady: (() => void) | undefined;
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
      redis.once('ready', onReady);
    });
    return withTimeout(ready, timeoutMs, 'connecting to Redis').finally(() => redis.off('ready', onReady!));
  }

  async function guard<T>(op: () => Promise<T>, timeoutMs = defaultTimeoutMs): Promise<T> {
    if (closed) throw new QueueUnavailableError('training queue is closed (the service is shutting down); retry later');
    try {
      if (redis.status !== 'ready') {
        if (everReady || !['wait', 'connecting', 'connect'].includes(redis.status)) {
          throw new Error(`connection ${redis.status}`);
        }
        await firstConnect(Math.min(timeoutMs, 1000));
      }
      return await withTimeout(op(), timeoutMs, 'Redis');
    } catch (err) {
      throw classifyRedisError(err);
    }
  }

  return {
    guard,
    close: () => {
      closed = true;
    },
  };
}
