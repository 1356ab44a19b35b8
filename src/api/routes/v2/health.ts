// The Open Inference Protocol's health API: 200 with an empty body for true, 4xx for false. Live: the
// process answers. Ready: what predictions need works (the store answers, the inference engine computes
// its probe network); Redis is not needed, predictions never touch it. Open without an API key and never
// shed under load, like /healthz and /readyz, so that probes see the process.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../plugins/app/errors.js';
import { ignorePressure } from '../../plugins/external/under-pressure.js';
import { oipErrors } from './schemas.js';

const empty = (description: string) => ({ description, type: 'null' });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health/live',
    {
      config: ignorePressure,
      schema: {
        tags: ['inference-v2'],
        summary: 'Server live: 200 while the process answers',
        security: [],
        response: {
          200: empty('Live (empty body)'),
          503: { ...Type.Object({ error: Type.String() }), description: 'The server is shutting down (Fastify answers before any route: {"error": "Service Unavailable", ...})' },
        },
      },
    },
    async (_request, reply) => reply.code(200).send(),
  );

  app.get(
    '/health/ready',
    {
      config: ignorePressure,
      schema: {
        tags: ['inference-v2'],
        summary: 'Server ready: 200 when predictions can be served (store and inference engine working)',
        security: [],
        response: { 200: empty('Ready (empty body)'), 400: { ...oipErrors[400], description: 'Not ready; the message says which check failed' } },
      },
    },
    async (_request, reply) => {
      const checks = await app.readiness.check(['store', 'inference'] as const);
      const failed = Object.entries(checks).filter(([, c]) => !c.ok);
      if (failed.length > 0) throw new ApiError(400, `not ready: ${failed.map(([name, c]) => `${name}: ${c.message}`).join('; ')}`);
      return reply.code(200).send();
    },
  );
};

export default routes;
