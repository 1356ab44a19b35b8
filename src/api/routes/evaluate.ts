// Evaluation of a model's checkpoint on a dataset split (by default its held-out test part), with the
// frozen statistics. The dataset is read in chunks from the store, never loaded whole.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getDatasetInfo, missingDatasetMessage, openDatasetSplit } from '../../datasets/dataset-service.js';
import { DatasetError } from '../../datasets/errors.js';
import { checkDatasetForModel } from '../../datasets/validate.js';
import { evaluateCheckpoint } from '../../evaluation/evaluate.js';
import { EvaluateRequest, EvaluateResponse } from '../../schemas/evaluation.js';
import { ApiError } from '../plugins/app/errors.js';
import { rateLimited } from '../plugins/external/rate-limit.js';
import { DATASET_ID_PATTERN, ModelIdParams, commonErrors, described, pickErrors } from './schemas.js';

const DATASET_ID = new RegExp(DATASET_ID_PATTERN);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, config } = app;

  app.post(
    '/v1/models/:modelId/evaluate',
    {
      config: rateLimited(config),
      schema: {
        tags: ['prediction'],
        summary: "Evaluate a checkpoint on a dataset split (default: the dataset's test part)",
        description:
          'Runs the checkpoint in inference mode (every BN layer with its moving mean and variance) over every row ' +
          'of the split, in chunks: loss as training computes it, and for classification accuracy and the ' +
          'confusion matrix (rows: label, columns: predicted class). The dataset must have the model\'s inputDim ' +
          'features and labels its task takes.',
        params: ModelIdParams,
        body: EvaluateRequest,
        response: { 200: described(EvaluateResponse, 'The metrics'), ...commonErrors, ...pickErrors(400, 404, 409, 413, 415, 429) },
      },
    },
    async (request) => {
      const { modelId } = request.params;
      const { datasetId, split = 'test', checkpoint = 'latest' } = request.body;
      if (!DATASET_ID.test(datasetId)) {
        throw new ApiError(400, `datasetId ${JSON.stringify(datasetId)} is not a dataset id (ds_... or builtin:...)`, 'datasetId');
      }
      if (!(await store.getModel(modelId))) throw new ApiError(404, `no model ${modelId}; list models with GET /v1/models`, 'modelId');
      const epoch = await store.resolveEpoch(modelId, checkpoint);
      const doc = epoch === null ? null : await store.getCheckpoint(modelId, epoch);
      // 409 while its job has saved nothing yet (saying what the job is doing), 404 for an unknown epoch
      if (!doc) throw await app.modelCache.missing(modelId, checkpoint);
      const info = await getDatasetInfo(store, datasetId);
      if (!info) throw new ApiError(404, await missingDatasetMessage(datasetId), 'datasetId');
      if (split === 'test' && !info.test) {
        throw new ApiError(400, `dataset ${datasetId} has no test part; evaluate split "train" or "all", or upload one with testFeatures and testLabels`, 'split');
      }
      checkDatasetForModel(info, doc.spec, 'datasetId');
      const reader = await openDatasetSplit(store, datasetId, split);
      if (!reader) throw new ApiError(404, await missingDatasetMessage(datasetId), 'datasetId');
      try {
        const result = await evaluateCheckpoint(doc, app.inference, reader, `${split}.labels`);
        request.log.info({ modelId, datasetId, split, checkpoint: doc.epoch, rows: result.rows }, 'evaluated');
        return { modelId, datasetId: info.id, split, checkpoint: doc.epoch, ...result };
      } catch (err) {
        if (err instanceof DatasetError) throw new ApiError(400, `dataset ${datasetId}: ${err.message}`, 'datasetId');
        throw err;
      } finally {
        await reader.close();
      }
    },
  );
};

export default routes;
