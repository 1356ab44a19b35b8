// ioredis connection factories. Two flavours, because the two sides want opposite things when Redis is
// down: the API must fail fast (a request answered 503 beats one that hangs), the worker must wait.
// Both reconnect forever with a capped backoff, so the service recovers by itself when Redis returns.
import { Redis, type RedisOptions } from 'ioredis';
import { settleWithin } from '../util/with-timeout.js';

export interface ConnectionLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Backoff between reconnect attempts: 100 ms, 200 ms, ... capped at 2 s; never gives up. */
export function reconnectDelay(times: number): number {
  return Math.min(times * 100, 2000);
}

/** The URL without its password (and user), for logs and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable REDIS_URL>';
  }
}

/** Logs the first error of each outage and the recovery; without a listener ioredis prints every error. */
function watch(client: Redis, role: string, url: string, logger?: ConnectionLogger): Redis {
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger?.warn({ redis: redactRedisUrl(url), role, err: err.message }, 'redis connection lost; reconnecting');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger?.info({ redis: redactRedisUrl(url), role }, 'redis connection restored');
  });
  return client;
}

/** API / producer side: commands fail at once while disconnected instead of queueing up. */
export function createProducerConnection(url: string, logger?: ConnectionLogger, name = 'bn-api'): Redis {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    connectTimeout: 1000,
    maxRetriesPerRequest: 1,
    // A server that accepts the connection but never answers must not hold a request forever.
    commandTimeout: 2500,
    retryStrategy: reconnectDelay,
    connectionName: name,
  };
  return watch(new Redis(url, options), name, url, logger);
}

/**
 * Worker side (also QueueEvents and pub/sub subscribers): BullMQ's blocking commands require
 * maxRetriesPerRequest null, and commands wait for the reconnect instead of failing. lazyConnect: the
 * client connects on first use (BullMQ duplicates it for its own connections and also uses it).
 */
export function createWorkerConnection(url: string, logger?: ConnectionLogger, name = 'bn-worker'): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectTimeout: 5000,
    retryStrategy: reconnectDelay,
    lazyConnect: true,
    connectionName: name,
  };
  return watch(new Redis(url, options), name, url, logger);
}

/** Closes a client politely, falling back to a hard disconnect when Redis does not answer. */
export async function closeConnection(client: Redis, timeoutMs = 1000): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  // A failed or unanswered QUIT leaves a hard disconnect: the connection is going away either way.
  const quit = await settleWithin(client.quit(), timeoutMs);
  if (quit.outcome !== 'done') client.disconnect();
}
