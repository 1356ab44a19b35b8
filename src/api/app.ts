// The application factory: plugins and routes around collaborators the caller builds (config, store,
// queue, inference engine). Registering does no I/O and nothing listens; src/main.ts runs the server.
import Fastify, { LogController, type FastifyInstance, type FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { REDACT_PATHS } from '../config/log-redaction.js';
import type { Store } from '../store/store.js';
import type { TrainingQueue } from '../queue/types.js';
import type { InferenceEngine } from '../inference/types.js';
import { createInferenceEngine } from '../inference/index.js';
import { configureBuiltins } from '../datasets/builtin.js';
import { deferredChildLogger } from './deferred-child-logger.js';
import helmet, { securityHeaders } from './plugins/external/helmet.js';
import cors from './plugins/external/cors.js';
import underPressure from './plugins/external/under-pressure.js';
import rateLimit from './plugins/external/rate-limit.js';
import sse from './plugins/external/sse.js';
import swagger from './plugins/external/swagger.js';
import staticUi from './plugins/external/static-ui.js';
import csvParser from './plugins/external/csv-parser.js';
import multipart from './plugins/external/multipart.js';
import errors, { MAX_PARAM_LENGTH, toErrorBody } from './plugins/app/errors.js';
import auth from './plugins/app/auth.js';
import requestId, { genReqId } from './plugins/app/request-id.js';
import services from './plugins/app/services.js';
import metrics from './plugins/app/metrics.js';
import modelCache from './plugins/app/model-cache.js';
import aliasWarmUp from './plugins/app/alias-warm-up.js';
import readiness from './plugins/app/readiness.js';
import healthRoutes from './routes/health.js';
import datasetRoutes from './routes/datasets.js';
import trainingJobRoutes from './routes/training-jobs.js';
import jobEventRoutes from './routes/job-events.js';
import modelRoutes from './routes/models.js';
import aliasRoutes from './routes/aliases.js';
import predictRoutes from './routes/predict.js';
import evaluateRoutes from './routes/evaluate.js';
import experimentRoutes from './routes/experiments.js';
import bnStatsRoutes from './routes/bn-stats.js';
import v2Routes, { oipErrorBody } from './routes/v2/index.js';

export interface AppDeps {
  config: Config;
  store: Store;
  queue: TrainingQueue;
  /** A pino logger, true for a new one at LOG_LEVEL, false/absent for none. */
  logger?: Logger | boolean;
  /** Default: createInferenceEngine() */
  inference?: InferenceEngine;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: no "incoming request" / "request completed" lines for this route (errors are still logged). */
    accessLog?: boolean;
  }
}

function loggerOptions(deps: AppDeps) {
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  if (deps.logger && typeof deps.logger === 'object') return { loggerInstance: deps.logger.child({}, { redact }) };
  if (deps.logger === true) return { logger: { level: deps.config.LOG_LEVEL, redact } };
  return { logger: false };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  configureBuiltins({ fashionMnistDir: config.FASHION_MNIST_DIR });
  const app = Fastify({
    ...loggerOptions(deps),
    genReqId,
    requestIdHeader: false,
    childLoggerFactory: deferredChildLogger,
    // Per route rather than a route-level logLevel, which makes pino rebuild every log method of each
    // request's child logger.
    logController: new LogController({ disableRequestLogging: (request) => request.routeOptions?.config?.accessLog === false }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors the router raises before any route or hook runs (a bad %-escape, an over-long path parameter)
    // get the same {statusCode, error, message} shape as every other error, not Fastify's own body.
    // No hook has run yet, so the headers every other reply gets are set here. /v2 paths answer in the
    // Open Inference Protocol's {"error": "..."} shape, as their routes do.
    frameworkErrors: (err, request, reply) => {
      const out = toErrorBody(err, reply);
      (reply as FastifyReply)
        .headers({ ...securityHeaders(request.url), 'x-request-id': request.id })
        .code(out.statusCode)
        .type('application/json; charset=utf-8')
        .send(request.url.startsWith('/v2/') || request.url === '/v2' ? oipErrorBody(out) : out);
    },
    // Unknown fields are errors (400), not silently dropped; bodies are never coerced ('1' is not 1).
    // Query strings are declared as strings with patterns and converted in the handlers.
    ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false, useDefaults: false } },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Ecosystem plugins, then the service's own, then routes (swagger must see every route). The request
  // id first, so that every reply carries it. Hooks on the prediction path are callback-style: an async
  // hook costs a promise and a microtask per request.
  await app.register(requestId);
  await app.register(helmet);
  await app.register(cors, { config });
  await app.register(underPressure, { config });
  await app.register(errors);
  await app.register(auth, { config });
  await app.register(rateLimit, { config });
  await app.register(sse);
  await app.register(swagger);
  await app.register(csvParser);
  await app.register(multipart, { config });
  let inference = deps.inference;
  if (!inference) {
    const selection = await createInferenceEngine(config.INFERENCE_ENGINE);
    app.log.info({ inferenceEngine: selection.engine.name }, selection.note);
    inference = selection.engine;
  }
  await app.register(services, { config, store: deps.store, queue: deps.queue, inference });
  await app.register(metrics);
  await app.register(modelCache);
  await app.register(aliasWarmUp);
  await app.register(readiness);

  await app.register(healthRoutes);
  await app.register(datasetRoutes);
  await app.register(trainingJobRoutes);
  await app.register(jobEventRoutes);
  await app.register(modelRoutes);
  await app.register(aliasRoutes);
  await app.register(predictRoutes);
  await app.register(evaluateRoutes);
  await app.register(experimentRoutes);
  await app.register(bnStatsRoutes);
  await app.register(staticUi);
  await app.register(v2Routes, { prefix: '/v2' });

  return app as unknown as FastifyInstance;
}
