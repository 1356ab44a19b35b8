// The ceiling of the HTTP stack: Fastify with one POST route that parses the same JSON body as a
// one-point prediction and answers a constant of the same shape, no plugins, no logging.
// FEATURES (comma-separated) adds the service's own per-request features to it, each with the service's
// code, so that bench/http-costs.ts can price them one at a time:
//   route       the prediction route's path parameter and its params, query and body schemas
//   logger      pino at info, the deferred per-request child, the route's access log off (as the service)
//   request-id  genReqId and the X-Request-Id reply header
//   headers     the security headers
//   metrics     the HTTP latency histogram (onResponse) and the prediction histogram the handler feeds
//   pressure    overload protection (@fastify/under-pressure with the service's settings)
//   errors      the error handler and the 415 media-type guard
// Usage: PORT=... FEATURES=... node dist/bench/bare-server.js   (prints "listening" when ready)
import Fastify, { LogController, type FastifyServerOptions } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config/config.js';
import { deferredChildLogger } from '../src/api/deferred-child-logger.js';
import requestId, { genReqId } from '../src/api/plugins/app/request-id.js';
import helmet from '../src/api/plugins/external/helmet.js';
import underPressure from '../src/api/plugins/external/under-pressure.js';
import errors from '../src/api/plugins/app/errors.js';
import { addRequestMetrics } from '../src/api/plugins/app/request-metrics.js';
import { ModelIdParams, PredictBody, PredictQuery } from '../src/api/routes/schemas.js';
import { FEATURES } from './lib/http-features.js';

const features = new Set((process.env.FEATURES ?? '').split(',').filter(Boolean));
for (const f of features) if (!(FEATURES as readonly string[]).includes(f)) throw new Error(`unknown feature ${f}; known: ${FEATURES.join(', ')}`);

const options: FastifyServerOptions = { logger: false };
if (features.has('logger')) {
  Object.assign(options, {
    logger: undefined,
    loggerInstance: pino({ level: 'info' }, pino.destination('/dev/null')),
    childLoggerFactory: deferredChildLogger,
    logController: new LogController({ disableRequestLogging: (request) => request.routeOptions?.config?.accessLog === false }),
  });
}
if (features.has('request-id')) Object.assign(options, { genReqId, requestIdHeader: false });

const app = Fastify(options);
if (features.has('request-id')) await app.register(requestId);
if (features.has('headers')) await app.register(helmet);
if (features.has('pressure')) await app.register(underPressure, { config: loadConfig({}) });
if (features.has('errors')) await app.register(errors);
const observePrediction = features.has('metrics') ? addRequestMetrics(app, new Registry()) : undefined;

const answer = { y: [0.5], class: 1, checkpoint: 1 };
const handler = async () => {
  if (observePrediction) {
    const t0 = performance.now();
    observePrediction('one', 'folded', (performance.now() - t0) / 1000);
  }
  return answer;
};
if (features.has('route')) {
  app.post(
    '/v1/models/:modelId/predict',
    { config: { accessLog: false }, schema: { params: ModelIdParams, querystring: PredictQuery, body: PredictBody } },
    handler,
  );
} else {
  app.post('/predict', { config: { accessLog: false } }, handler);
}

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write('listening\n');
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
