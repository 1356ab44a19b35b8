// Prometheus metrics in a Registry of this app instance (tests build many apps in one process). Queue depth
// is read from Redis at scrape time and tolerates Redis being down (bn_queue_up 0); job outcomes and
// throughput come from the queue's event stream once the server listens.
import fp from 'fastify-plugin';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobEvent, QueueCounts } from '../../../queue/types.js';
import { Lru } from '../../../util/lru.js';
import { withTimeout } from '../../../util/with-timeout.js';
import { addRequestMetrics, type ObservePrediction } from './request-metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ApiMetrics;
  }
}

export interface ApiMetrics {
  registry: Registry;
  observePrediction: ObservePrediction;
}

const COUNTS_TIMEOUT_MS = 1000;
const RESUBSCRIBE_MS = 5000;
/** Finished job ids remembered so that a duplicated final event is not counted twice. */
const SEEN_FINAL_MAX = 10_000;

export default fp(
  async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const queue = app.queue;

    const observePrediction = addRequestMetrics(app, registry);
    const queueUp = new Gauge({
      name: 'bn_queue_up',
      help: '1 when the last scrape could read the queue from Redis, else 0',
      registers: [registry],
    });
    new Gauge({
      name: 'bn_queue_jobs',
      help: 'Training jobs in the queue by state (read from Redis at scrape time)',
      labelNames: ['state'] as const,
      registers: [registry],
      async collect() {
        try {
          const counts: QueueCounts = await withTimeout(queue.counts(), COUNTS_TIMEOUT_MS, 'reading the queue counts');
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
          queueUp.set(1);
        } catch (err) {
          // Redis down: keep the scrape working, say so in bn_queue_up.
          app.log.debug({ err: (err as Error).message }, 'metrics scrape: queue counts unavailable');
          this.reset();
          queueUp.set(0);
        }
      },
    });
    const jobsFinished = new Counter({
      name: 'bn_training_jobs_finished_total',
      help: 'Training jobs that finished, by outcome (completed, failed, cancelled)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    for (const outcome of ['completed', 'failed', 'cancelled']) jobsFinished.inc({ outcome }, 0);
    const samplesPerSecond = new Map<string, number>();
    new Gauge({
      name: 'bn_training_samples_per_second',
      help: 'Training throughput summed over running jobs (last progress report of each)',
      registers: [registry],
      collect() {
        let sum = 0;
        for (const v of samplesPerSecond.values()) sum += v;
        this.set(sum);
      },
    });

    const seenFinal = new Lru<true>(SEEN_FINAL_MAX);
    const onJobEvent = (jobId: string, event: JobEvent) => {
      if (event.type === 'progress') {
        const sps = event.progress.samplesPerSecond;
        if (typeof sps === 'number' && Number.isFinite(sps)) samplesPerSecond.set(jobId, sps);
        return;
      }
      if (!event.final) return;
      samplesPerSecond.delete(jobId);
      if (seenFinal.peek(jobId)) return;
      seenFinal.set(jobId, true);
      jobsFinished.inc({ outcome: event.status.status });
    };

    // Subscribing needs Redis; do it only for a listening server, never while building or for app.inject.
    let unsubscribe: (() => void) | undefined;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    const subscribe = async () => {
      try {
        const stop = await queue.subscribeAll(onJobEvent);
        if (stopped) stop();
        else unsubscribe = stop;
      } catch (err) {
        if (stopped) return;
        app.log.warn({ err }, `job metrics: cannot subscribe to queue events; retrying in ${RESUBSCRIBE_MS / 1000} s`);
        retry = setTimeout(() => void subscribe(), RESUBSCRIBE_MS);
        retry.unref();
      }
    };
    app.addHook('onListen', async () => {
      void subscribe();
    });
    app.addHook('onClose', async () => {
      stopped = true;
      clearTimeout(retry);
      unsubscribe?.();
    });

    app.decorate('metrics', { registry, observePrediction });
  },
  { name: 'metrics', dependencies: ['services'] },
);
