// Predictions with the frozen population statistics. Reads only the store and the in-process model cache,
// never Redis, so predictions keep working while the queue is down.
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../plugins/app/errors.js';
import { rateLimited } from '../plugins/external/rate-limit.js';
import { checkRow, classOf } from '../prediction-checks.js';
import { parseCheckpointRef } from '../../schemas/checkpoint-ref.js';
import { ModelIdParams, PredictBatchResponse, PredictBody, PredictOneResponse, PredictQuery, commonErrors, pickErrors } from './schemas.js';

/** JSON.stringify directly: an anyOf response schema would make the serializer validate every answer. */
function send(reply: FastifyReply, body: object): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(body));
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { modelCache, config, metrics } = app;

  app.post(
    '/v1/models/:modelId/predict',
    {
      // No "incoming request" / "request completed" lines per prediction (see app.ts): at thousands of
      // requests a second they were a fifth of the route's cost. Errors are still logged, and
      // http_request_duration_seconds and bn_prediction_duration_seconds count every prediction.
      config: { ...rateLimited(config), accessLog: false },
      schema: {
        tags: ['prediction'],
        summary: 'Predict one point ({x}) or several ({instances})',
        description:
          'Inference mode: every BN layer uses its moving mean and variance, nothing is updated, and rows are ' +
          'independent of each other. {x} answers {y, class?, checkpoint}; {instances} answers {predictions, ' +
          'checkpoint}. ?checkpoint= names the checkpoint: an epoch, latest (the default), best or an alias; ' +
          'checkpoint in the answer is the epoch that served. ?explain=true (with x) adds h, hhat and r ' +
          'of every BN layer.',
        params: ModelIdParams,
        querystring: PredictQuery,
        body: PredictBody,
        response: {
          200: { anyOf: [PredictOneResponse, PredictBatchResponse], description: 'PredictOne for x, PredictBatch for instances' },
          ...commonErrors,
          ...pickErrors(400, 404, 409, 413, 415, 429),
        },
      },
    },
    async (request, reply) => {
      const { x, instances } = request.body;
      if ((x === undefined) === (instances === undefined)) {
        throw new ApiError(400, 'send exactly one of x (one point) and instances (several points)', 'x');
      }
      const explain = request.query.explain === 'true';
      if (explain && x === undefined) throw new ApiError(400, 'explain=true works with x (one point) only', 'explain');
      if (instances !== undefined && instances.length > config.MAX_PREDICT_INSTANCES) {
        throw new ApiError(400, `${instances.length} instances exceed MAX_PREDICT_INSTANCES=${config.MAX_PREDICT_INSTANCES}; split the request`, 'instances');
      }
      const ref = request.query.checkpoint === undefined ? 'latest' : parseCheckpointRef(request.query.checkpoint);
      const { model, task } = modelCache.peek(request.params.modelId, ref) ?? (await modelCache.get(request.params.modelId, ref));

      if (x !== undefined) {
        checkRow(x, model.inputDim, 'x');
        const t0 = performance.now();
        const explanation = explain ? await model.explain(x) : undefined;
        const y = explanation ? explanation.y : await model.predictOne(x);
        metrics.observePrediction(explain ? 'explain' : 'one', model.engine, (performance.now() - t0) / 1000);
        const cls = classOf(task, y);
        return send(reply, {
          y,
          ...(cls !== undefined && { class: cls }),
          checkpoint: model.epoch,
          ...(explanation && { explanation: { y: explanation.y, batchNorm: explanation.batchNorm } }),
        });
      }
      const rows = instances as number[][];
      rows.forEach((row, i) => checkRow(row, model.inputDim, `instances[${i}]`));
      const t0 = performance.now();
      const predictions = await model.predict(rows);
      metrics.observePrediction('batch', model.engine, (performance.now() - t0) / 1000);
      return send(reply, { predictions, checkpoint: model.epoch });
    },
  );
};

export default routes;
