// Transient failures of a read: the service sheds load with 503 + Retry-After while its event loop is
// stalled, and may be restarting (no answer at all). A page that gave up on the first such answer would
// stop showing live data; these reads are tried again, a few times, after a growing pause.
import { ApiRequestError } from './client.js';

const RETRY_MS = [500, 1000, 2000, 5000, 10_000];

/** 5xx or no answer: worth another try; a 4xx will answer the same again. */
export function isTransient(err: unknown): boolean {
  return err instanceof ApiRequestError && (err.status === 0 || err.status >= 500);
}

/** fn, tried again on transient failures until it succeeds, fails otherwise, or `signal` aborts. */
export async function retrying<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted || !isTransient(err) || attempt >= RETRY_MS.length) throw err;
      console.warn(`retrying after a transient failure: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS[attempt]));
    }
  }
}
