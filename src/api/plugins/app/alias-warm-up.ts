// When the API starts, the checkpoints that aliases name are loaded and probed in the background, so that
// the first prediction by an alias after a restart does not pay for loading. latest and best are not:
// they follow training, and any model's newest checkpoint is loaded by its first request or by asking
// /v2/models/{model}/ready. Started once the app is ready and never awaited there, so listen is never
// delayed; WARM_UP_CONCURRENCY loads at a time, at most MODEL_CACHE_SIZE checkpoints (more would evict
// the first ones again), newest models first. Closing the app stops it after the loads in progress.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    aliasWarmUp: AliasWarmUp;
  }
}

export interface WarmUpReport {
  /** distinct aliased checkpoints found */
  checkpoints: number;
  warmed: number;
  failed: number;
  /** left cold: beyond MODEL_CACHE_SIZE, or the app closed first */
  skipped: number;
}

export interface AliasWarmUp {
  /** Resolves once the warm-up has finished (at once when it is off or has not started). */
  done(): Promise<WarmUpReport>;
}

interface Target {
  modelId: string;
  alias: string;
}

/** One alias per aliased checkpoint, newest models first. */
async function aliasedCheckpoints(app: FastifyInstance): Promise<Target[]> {
  const targets: Target[] = [];
  for (const record of await app.store.listModels()) {
    const seen = new Set<number>();
    for (const [alias, epoch] of Object.entries(await app.store.getAliases(record.modelId))) {
      if (seen.has(epoch)) continue;
      seen.add(epoch);
      targets.push({ modelId: record.modelId, alias });
    }
  }
  return targets;
}

async function warmUp(app: FastifyInstance, closing: () => boolean): Promise<WarmUpReport> {
  const t0 = performance.now();
  const found = await aliasedCheckpoints(app);
  const queue = found.slice(0, app.config.MODEL_CACHE_SIZE);
  const report: WarmUpReport = { checkpoints: found.length, warmed: 0, failed: 0, skipped: found.length - queue.length };
  if (found.length === 0) return report;
  app.log.info({ checkpoints: found.length, loading: queue.length, concurrency: app.config.WARM_UP_CONCURRENCY }, 'warming up aliased checkpoints');
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (closing()) {
        report.skipped += 1 + queue.length;
        queue.length = 0;
        return;
      }
      try {
        await app.modelCache.warm(next.modelId, next.alias);
        report.warmed++;
      } catch (err) {
        report.failed++;
        app.log.warn({ modelId: next.modelId, alias: next.alias, err: (err as Error).message }, 'an aliased checkpoint could not be warmed up; its first request loads it');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(app.config.WARM_UP_CONCURRENCY, queue.length) }, worker));
  app.log.info({ ...report, durationMs: Math.round(performance.now() - t0) }, 'aliased checkpoints warmed up');
  return report;
}

export default fp(
  async (app) => {
    const idle: WarmUpReport = { checkpoints: 0, warmed: 0, failed: 0, skipped: 0 };
    let running: Promise<WarmUpReport> = Promise.resolve(idle);
    let closing = false;
    app.decorate('aliasWarmUp', { done: () => running });
    if (app.config.WARM_UP_CONCURRENCY === 0) return;
    app.addHook('onReady', (done) => {
      running = warmUp(app, () => closing).catch((err: Error) => {
        app.log.error({ err }, 'the warm-up of aliased checkpoints stopped');
        return idle;
      });
      done();
    });
    app.addHook('onClose', async () => {
      closing = true;
      await running;
    });
  },
  { name: 'alias-warm-up', dependencies: ['model-cache'] },
);
