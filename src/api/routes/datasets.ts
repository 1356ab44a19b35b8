// Datasets: JSON ({features, labels}) or CSV (?label=<column>) uploads, their statistics, the list, and
// deletion (refused while a queued or running job uses the dataset).
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DatasetInfo, DatasetUpload } from '../../schemas/dataset.js';
import { createDatasetFromCsv, createDatasetFromUpload, getDatasetInfo } from '../../datasets/dataset-service.js';
import { builtinDataset, isBuiltinId, listBuiltinIds } from '../../datasets/builtin.js';
import { DatasetError } from '../../datasets/errors.js';
import { datasetLimits } from '../../config/config.js';
import { PageQuery, newestFirst, page } from '../pagination.js';
import { ApiError } from '../plugins/app/errors.js';
import { DATASET_ID_PATTERN, DatasetList, commonErrors, described, pickErrors } from './schemas.js';

const ListQuery = Type.Object(PageQuery, { additionalProperties: false });
const DatasetParams = Type.Object({ id: Type.String({ pattern: DATASET_ID_PATTERN, description: 'ds_... or builtin:...' }) });
const position = (d: DatasetInfo) => ({ createdAt: d.createdAt, id: d.id });

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
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'List datasets, newest first (paginated): the uploaded ones, then the built-in ones',
        querystring: ListQuery,
        response: { 200: described(DatasetList, 'Datasets, newest first'), ...commonErrors, ...pickErrors(400) },
      },
    },
    async (request) => {
      const builtins = listBuiltinIds().flatMap((id) => builtinDataset(id)?.info ?? []);
      const all = [...(await app.store.listDatasets()), ...builtins].sort(newestFirst(position));
      const { items, nextCursor } = page(all, request.query, position);
      return { datasets: items, ...(nextCursor && { nextCursor }) };
    },
  );

  app.delete(
    '/v1/datasets/:id',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Delete an uploaded dataset (409 while a queued or running job uses it)',
        description:
          'Models trained on it keep their checkpoints; a job queued after the deletion fails at once saying the ' +
          'dataset is gone. Built-in datasets cannot be deleted. 503 while Redis is unreachable: whether a job ' +
          'uses the dataset cannot be told.',
        params: DatasetParams,
        response: { 204: { description: 'Deleted', type: 'null' }, ...commonErrors, ...pickErrors(400, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (isBuiltinId(id)) throw new ApiError(400, `${id} is built in and cannot be deleted`, 'id');
      if (!(await app.store.getDatasetInfo(id))) throw new ApiError(404, `no dataset ${id}; list datasets with GET /v1/datasets`, 'id');
      const users = (await app.store.listModels()).filter((m) => m.datasetId === id);
      const statuses = await app.queue.getStatuses(users.map((m) => m.jobId));
      const busy = [...statuses.values()].find((s) => s.status === 'queued' || s.status === 'running');
      if (busy) {
        throw new ApiError(409, `dataset ${id} is used by training job ${busy.jobId} (${busy.status}); cancel it or wait for it to finish`, 'id');
      }
      await app.store.deleteDataset(id);
      request.log.info({ datasetId: id }, 'dataset deleted');
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/datasets/:id',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Dataset statistics (also builtin:blobs and builtin:placement)',
        params: DatasetParams,
        response: { 200: described(DatasetInfo, 'The dataset and its per-feature statistics'), ...commonErrors, ...pickErrors(400, 404) },
      },
    },
    async (request) => {
      const info = await getDatasetInfo(app.store, request.params.id);
      if (!info) {
        throw new ApiError(404, `no dataset ${request.params.id}; upload one with POST /v1/datasets, or use one of ${listBuiltinIds().join(', ')}`, 'id');
      }
      return info;
    },
  );
};

export default routes;
