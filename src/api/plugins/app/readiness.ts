// Readiness checks of what the API depends on, each bounded in time: Redis (job submission), a writable
// store, and the inference engine (its probe network, answered once correctly is enough). GET /readyz
// runs all three; the Open Inference Protocol's server-ready runs those predictions need.
import fp from 'fastify-plugin';
import { checkEngine } from '../../../inference/index.js';
import { withTimeout } from '../../../util/with-timeout.js';

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness;
  }
}

export const CHECK_TIMEOUT_MS = 2000;

export type CheckName = 'redis' | 'store' | 'inference';

export interface CheckResult {
  ok: boolean;
  message?: string;
  latencyMs: number;
}

export interface Readiness {
  /** The named checks, run side by side. */
  check<K extends CheckName>(names: readonly K[]): Promise<Record<K, CheckResult>>;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

async function timed(fn: () => Promise<void> | void): Promise<CheckResult> {
  const t0 = performance.now();
  try {
    await withTimeout(Promise.resolve().then(fn), CHECK_TIMEOUT_MS, 'the check');
    return { ok: true, latencyMs: round(performance.now() - t0) };
  } catch (err) {
    return { ok: false, message: (err as Error).message, latencyMs: round(performance.now() - t0) };
  }
}

export default fp(
  async (app) => {
    let inferenceReady = false;
    const checks: Record<CheckName, () => Promise<void>> = {
      redis: () => app.queue.ping(),
      store: () => app.store.checkWritable(),
      inference: async () => {
        if (inferenceReady) return;
        await checkEngine(app.inference);
        inferenceReady = true;
      },
    };
    app.decorate('readiness', {
      async check<K extends CheckName>(names: readonly K[]) {
        const results = await Promise.all(names.map((name) => timed(checks[name])));
        return Object.fromEntries(names.map((name, i) => [name, results[i]])) as Record<K, CheckResult>;
      },
    });
  },
  { name: 'readiness', dependencies: ['services'] },
);
