// Liveness, readiness and Prometheus metrics. /healthz says only that the process answers; /readyz checks
// what the API needs to accept work (Redis, a writable store, the inference engine).
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { checkEngine } from '../../inference/index.js';
import { withTimeout } from '../../util/with-timeout.js';
import { ignorePressure } from '../plugins/external/under-pressure.js';
import { ReadyResponse, commonErrors, content } from './schemas.js';

const CHECK_TIMEOUT_MS = 2000;

type CheckResult = { ok: boolean; message?: string; latencyMs: number };

async function timed(fn: () => Promise<void> | void): Promise<CheckResult> {
  const t0 = performance.now();
  try {
    await withTimeout(Promise.resolve().then(fn), CHECK_TIMEOUT_MS, 'the check');
    return { ok: true, latencyMs: round(performance.now() - t0) };
  } catch (err) {
    return { ok: false, message: (err as Error).message, latencyMs: round(performance.now() - t0) };
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

const routes: FastifyPluginAsyncTypebox = async (app) => {
  let inferenceReady = false;
  const checkInference = async () => {
    if (inferenceReady) return;
    await checkEngine(app.inference);
    inferenceReady = true;
  };

  app.get(
    '/healthz',
    {
      config: ignorePressure,
      schema: {
        tags: ['operations'],
        summary: 'Liveness: 200 while the process runs',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false, description: 'The process runs' }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: ignorePressure,
      schema: {
        tags: ['operations'],
        summary: 'Readiness: Redis reachable, store writable, inference engine working',
        security: [],
        response: {
          200: { ...ReadyResponse, description: 'Ready' },
          503: { ...ReadyResponse, description: 'Not ready; `checks` says which dependency failed' },
        },
      },
    },
    async (_request, reply) => {
      const [redis, store, inference] = await Promise.all([
        timed(() => app.queue.ping()),
        timed(() => app.store.checkWritable()),
        timed(checkInference),
      ]);
      const ok = redis.ok && store.ok && inference.ok;
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not-ready', checks: { redis, store, inference } });
    },
  );

  app.get(
    '/metrics',
    {
      config: ignorePressure,
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        response: {
          200: content('text/plain', Type.String(), 'Prometheus text format 0.0.4'),
          ...commonErrors,
        },
      },
    },
    async (_request, reply) => {
      const text = await app.metrics.registry.metrics();
      return reply.type(app.metrics.registry.contentType).send(text);
    },
  );
};

export default routes;
