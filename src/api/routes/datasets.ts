// Datasets: JSON ({features, labels}) or CSV (?label=<column>) uploads, and their statistics.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DatasetInfo, DatasetUpload } from '../../schemas/dataset.js';
import { createDatasetFromCsv, createDatasetFromUpload, getDatasetInfo } from '../../datasets/dataset-service.js';
import { DatasetError } from '../../datasets/errors.js';
import type { Config } from '../../config/config.js';
import { ApiError } from '../plugins/app/errors.js';
import { DATASET_ID_PATTERN, commonErrors, described, pickErrors } from './schemas.js';

export function datasetLimits(config: Config) {
  return { maxRows: config.MAX_ROWS, maxFeatures: config.MAX_FEATURES };
}

const UploadQuery = Type.Object(
  {
    label: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'text/csv only: the label column; every other column is a feature' }),
    ),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'text/csv only: a display name' })),
  },
  { additionalProperties: false },
);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Upload a dataset (JSON, or CSV with a header row)',
        description:
          'application/json: {features: number[][], labels: number[], name?, featureNames?}. text/csv: a header row, ' +
          'numbers only, `?label=<column>` names the label column. Rows, features and values are validated; the ' +
          'answer carries per-feature statistics.',
        querystring: UploadQuery,
        body: {
          content: {
            'application/json': { schema: DatasetUpload },
            'text/csv': { schema: Type.String({ description: 'CSV with a header row' }) },
          },
        },
        response: { 201: described(DatasetInfo, 'Stored; Location points at it'), ...commonErrors, ...pickErrors(400, 413, 415) },
      },
    },
    async (request, reply) => {
      const limits = datasetLimits(app.config);
      let info: DatasetInfo;
      if (typeof request.body === 'string') {
        const label = request.query.label;
        if (label === undefined) throw new ApiError(400, 'a CSV upload needs ?label=<column> naming the label column', 'label');
        try {
          info = await createDatasetFromCsv(app.store, request.body, label, request.query.name, limits);
        } catch (err) {
          if (err instanceof DatasetError && err.field === 'labelColumn') throw new ApiError(400, err.detail, 'label');
          throw err;
        }
      } else {
        // A body schema keyed by content type validates nothing when there is no Content-Type (and so no
        // body): without this the service would read `features` of undefined (a 500).
        if (typeof request.body !== 'object' || request.body === null) {
          throw new ApiError(
            400,
            'the request body is required: send application/json {features, labels} or text/csv with ?label=<column>',
            'body',
          );
        }
        if (request.query.label !== undefined || request.query.name !== undefined) {
          throw new ApiError(400, '?label and ?name apply to text/csv uploads; a JSON upload carries them in the body', 'label');
        }
        info = await createDatasetFromUpload(app.store, request.body as DatasetUpload, limits);
      }
      request.log.info({ datasetId: info.id, rows: info.rows, features: info.features }, 'dataset stored');
      return reply.code(201).header('location', `/v1/datasets/${info.id}`).send(info);
    },
  );

  app.get(
    '/v1/datasets/:id',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Dataset statistics (also builtin:blobs and builtin:placement)',
        params: Type.Object({ id: Type.String({ pattern: DATASET_ID_PATTERN, description: 'ds_... or builtin:...' }) }),
        response: { 200: described(DatasetInfo, 'The dataset and its per-feature statistics'), ...commonErrors, ...pickErrors(400, 404) },
      },
    },
    async (request) => {
      const info = await getDatasetInfo(app.store, request.params.id);
      if (!info) throw new ApiError(404, `no dataset ${request.params.id}; upload one with POST /v1/datasets`, 'id');
      return info;
    },
  );
};

export default routes;
