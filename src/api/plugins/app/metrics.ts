// Prometheus metrics in a Registry of this app instance (tests build many apps in one process). Queue depth
// is read from Redis at scrape time and tolerates Redis being down (bn_queue_up 0); job outcomes and
// throughput come from the queue's event stream once the server listens.
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobEvent, QueueCounts } from '../../../queue/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ApiMetrics;
  }
}

export type PredictionKind = 'one' | 'batch' | 'explain';

export interface ApiMetrics {
  registry: Registry;
  observePrediction(kind: PredictionKind, engine: string, seconds: number): void;
}

const COUNTS_TIMEOUT_MS = 1000;
const RESUBSCRIBE_MS = 5000;
/** Finished job ids remembered so that a duplicated final event is not counted twice. */
const SEEN_FINAL_MAX = 10_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export default fp(
  async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const queue = app.queue;

    const httpSeconds = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route pattern, method and status code',
      labelNames: ['route', 'method', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    const predictionSeconds = new Histogram({
      name: 'bn_prediction_duration_seconds',
      help: 'Time spent computing predictions (model lookup excluded), by kind (one, batch, explain) and engine (onnx, folded, direct)',
      labelNames: ['kind', 'engine'] as const,
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1],
      registers: [registry],
    });
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
          const counts: QueueCounts = await withTimeout(queue.counts(), COUNTS_TIMEOUT_MS);
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
          queueUp.set(1);
        } catch {
          // Redis down: keep the scrape working, say so in bn_queue_up.
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

    const seenFinal = new Set<string>();
    const onJobEvent = (jobId: string, event: JobEvent) => {
      if (event.type === 'progress') {
        const sps = event.status.progress.samplesPerSecond;
        if (typeof sps === 'number' && Number.isFinite(sps)) samplesPerSecond.set(jobId, sps);
        return;
      }
      samplesPerSecond.delete(jobId);
      if (seenFinal.has(jobId)) return;
      seenFinal.add(jobId);
      if (seenFinal.size > SEEN_FINAL_MAX) seenFinal.delete(seenFinal.values().next().value as string);
      jobsFinished.inc({ outcome: event.type });
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

    // Callback style: an async hook costs a promise and a microtask per request.
    app.addHook('onResponse', (request, reply, done) => {
      httpSeconds.observe(
        { route: request.routeOptions.url ?? 'unmatched', method: request.method, status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      done();
    });

    const observePrediction = (kind: PredictionKind, engine: string, seconds: number) => predictionSeconds.observe({ kind, engine }, seconds);

    app.decorate('metrics', { registry, observePrediction });
  },
  { name: 'metrics', dependencies: ['services'] },
);
