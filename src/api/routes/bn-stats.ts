// What BN does, per epoch: the training child's per-layer statistics on its probe batch (the
// pre-activation's distribution, its drift since the epoch before, the BN parameters, collapse flags),
// read from the model's BN statistics log, which retention never prunes.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BnStatsResponse, QUANTILE_NAMES } from '../../schemas/bn-stats.js';
import { ApiError } from '../plugins/app/errors.js';
import { ModelIdParams, commonErrors, described, pickErrors } from './schemas.js';

const BnStatsQuery = Type.Object(
  {
    // A string: query strings are not coerced (as ?limit= of the lists).
    fromEpoch: Type.Optional(
      Type.String({ pattern: '^(0|[1-9][0-9]{0,8})$', description: 'Only epochs >= fromEpoch, an integer >= 0 (for clients that poll: the last epoch they have + 1)' }),
    ),
  },
  { additionalProperties: false },
);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { store } = app;

  app.get(
    '/v1/models/:modelId/bn-stats',
    {
      schema: {
        tags: ['models'],
        summary: "Per epoch and hidden layer: the pre-activation's distribution on the probe batch, its drift, the BN parameters",
        description:
          'One entry per trained epoch, epoch 0 (the initialised network) first, pruned checkpoints included; ' +
          'written by the training job after each epoch, so a running job\'s grows (poll with fromEpoch). ' +
          'Measured on the probe batch (the first rows of the training part, the same every epoch) with a ' +
          'training-mode forward pass that updates nothing. Every quantile array is [min, p10, median, p90, max] across the layer\'s units.',
        params: ModelIdParams,
        querystring: BnStatsQuery,
        response: { 200: described(BnStatsResponse, 'The epochs, in order'), ...commonErrors, ...pickErrors(400, 404) },
      },
    },
    async (request) => {
      const { modelId } = request.params;
      const record = await store.getModel(modelId);
      if (!record) throw new ApiError(404, `no model ${modelId}; list models with GET /v1/models`, 'modelId');
      const from = Number(request.query.fromEpoch ?? 0);
      const epochs = (await store.bnStats(modelId)).filter((e) => e.epoch >= from);
      return { modelId, probeRows: record.probeRows ?? 0, quantiles: [...QUANTILE_NAMES], epochs };
    },
  );
};

export default routes;
