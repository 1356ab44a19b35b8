// The Open Inference Protocol's REST API (KServe's predict protocol v2, also Triton's HTTP/REST API) under
// /v2, so that clients written for KServe or Triton (tritonclient, the kserve SDK, perf_analyzer) call the
// service. Its own scope: errors in the protocol's {"error": "..."} shape (401, 429 and 503 from the
// global hooks included), a 404 of that shape for unknown /v2 paths, and its own body parser (JSON and
// binary tensor data, with or without Content-Type).
import type { FastifyPluginAsync } from 'fastify';
import { sendError, type ErrorBody } from '../../plugins/app/errors.js';
import inferBodyParser from '../../plugins/app/infer-body-parser.js';
import healthRoutes from './health.js';
import serverRoutes from './server.js';
import modelRoutes from './models.js';
import inferRoutes from './infer.js';

/** The protocol's error object. */
export const oipErrorBody = (out: ErrorBody) => ({ error: out.message });

const routes: FastifyPluginAsync = async (app) => {
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply, oipErrorBody));
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('application/json; charset=utf-8')
      .send({ error: `no route ${request.method} ${request.url.split('?')[0]}; the /v2 routes are listed at /docs` }),
  );
  await app.register(inferBodyParser, { config: app.config });
  await app.register(healthRoutes);
  await app.register(serverRoutes);
  await app.register(modelRoutes);
  await app.register(inferRoutes);
};

export default routes;
