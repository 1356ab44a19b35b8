// The one way to bound a promise in time. `withTimeout` rejects with TimeoutError when the time is up;
// `settleWithin` never rejects and says how the wait ended (shutdown paths, where a hung close must not
// hold the process). The timer never keeps the process alive and is cleared as soon as the race ends.

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** The outcome of `promise`, or a TimeoutError naming `what` after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what = 'the operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export type Settled<T> = { outcome: 'done'; value: T } | { outcome: 'failed'; error: unknown } | { outcome: 'timeout' };

/** Waits for `promise` at most `ms`; never rejects. */
export async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  try {
    return { outcome: 'done', value: await withTimeout(promise, ms) };
  } catch (error) {
    return error instanceof TimeoutError ? { outcome: 'timeout' } : { outcome: 'failed', error };
  }
}
