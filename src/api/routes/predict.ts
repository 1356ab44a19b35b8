// Predictions with the frozen population statistics. Reads only the store and the in-process model cache,
// never Redis, so predictions keep working while the queue is down.
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { checkRow } from '../../datasets/validate.js';
import { ApiError } from '../plugins/app/errors.js';
import { rateLimited } from '../plugins/external/rate-limit.js';
import { ModelIdParams, PredictBatchResponse, PredictBody, PredictOneResponse, PredictQuery, commonErrors, pickErrors } from './schemas.js';

/** binary: y >= 0.5; multiclass: argmax; regression: none. */
function classOf(task: string, y: number[]): number | undefined {
  if (task === 'binary') return y[0] >= 0.5 ? 1 : 0;
  if (task !== 'multiclass') return undefined;
  let best = 0;
  for (let k = 1; k < y.length; k++) if (y[k] > y[best]) best = k;
  return best;
}

/**
 * JSON numbers like 1e999 parse to Infinity, which the schema's `number` lets through; rows are checked by
 * the datasets' row validator (the same bounds as training data), a DatasetError being a 400 naming the cell.
 */
function checkInput(row: readonly number[], inputDim: number, field: string): void {
  checkRow(row, inputDim, field, (got) => `has ${got} values; the model expects inputDim=${inputDim} features`);
}

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
          'checkpoint}. ?checkpoint=N uses epoch N (default latest); ?explain=true (with x) adds h, hhat and r ' +
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
      const epoch = request.query.checkpoint === undefined || request.query.checkpoint === 'latest' ? 'latest' : Number(request.query.checkpoint);
      const { model, task } = modelCache.peek(request.params.modelId, epoch) ?? (await modelCache.get(request.params.modelId, epoch));

      if (x !== undefined) {
        checkInput(x, model.inputDim, 'x');
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
      rows.forEach((row, i) => checkInput(row, model.inputDim, `instances[${i}]`));
      const t0 = performance.now();
      const predictions = await model.predict(rows);
      metrics.observePrediction('batch', model.engine, (performance.now() - t0) / 1000);
      return send(reply, { predictions, checkpoint: model.epoch });
    },
  );
};

export default routes;
