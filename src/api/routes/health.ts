// Liveness, readiness and Prometheus metrics. /healthz says only that the process answers; /readyz checks
// what the API needs to accept work (Redis, a writable store, the inference engine).
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ignorePressure } from '../plugins/external/under-pressure.js';
import { ReadyResponse, commonErrors, content } from './schemas.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
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
      const checks = await app.readiness.check(['redis', 'store', 'inference'] as const);
      const ok = checks.redis.ok && checks.store.ok && checks.inference.ok;
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not-ready', checks });
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
