// Datasets: uploads as JSON ({features, labels}), as a text/csv body (?label=<column>) or as files in a
// multipart/form-data form (CSV, NPY or IDX, gzip allowed, with an optional test part), their info, the
// list, a page of their rows, and deletion (refused while a queued or running job uses the dataset).
import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DatasetInfo, DatasetRows, DatasetUpload, MAX_ROWS_PAGE, PART_NAMES } from '../../schemas/dataset.js';
import { createDatasetFromUpload, getDatasetInfo, missingDatasetMessage, openDatasetPart, startUpload } from '../../datasets/dataset-service.js';
import { featureRows } from '../../datasets/arrays.js';
import { builtinInfo, isBuiltinId, listBuiltinIds, takesScale } from '../../datasets/builtin.js';
import { DatasetError, DatasetTooLargeError } from '../../datasets/errors.js';
import { counted } from '../../datasets/formats/source.js';
import { FILE_FIELDS, VALUE_FIELDS, isFileField, isValueField, type UploadSession } from '../../datasets/upload.js';
import { datasetLimits } from '../../config/config.js';
import { PageQuery, newestFirst, page } from '../pagination.js';
import { ApiError } from '../plugins/app/errors.js';
import { MULTIPART_FIELD_BYTES } from '../plugins/external/multipart.js';
import { DATASET_ID_PATTERN, DatasetList, commonErrors, described, pickErrors } from './schemas.js';

const ListQuery = Type.Object(PageQuery, { additionalProperties: false });
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

const file = (description: string) => ({ type: 'string', format: 'binary', description });
const value = (description: string) => ({ type: 'string', description });

/**
 * Documents the form (OpenAPI). The parts are streamed and checked in the handler; what Fastify validates
 * is the body a multipart request has before that, none (null), hence `nullable`.
 */
const UploadForm = Type.Unsafe<unknown>({
  type: 'object',
  nullable: true,
  description: 'Files (CSV, NPY or IDX; each may be gzipped) and value fields; send value fields before the files',
  properties: {
    name: value('A display name'),
    label: value('CSV only: the column of the features file(s) that holds the labels (instead of a labels file)'),
    scale: value('Multiplies every feature value (e.g. 0.00392156862745098 = 1/255 for unit pixels); default 1'),
    features: file('Rows of feature values: CSV (header row optional), NPY (n, ...) or IDX (n, ...)'),
    labels: file('One label per row of features: CSV, NPY (n,) or (n, 1), IDX (n,)'),
    testFeatures: file('Optional test part: rows never trained on, for POST /v1/models/:id/evaluate'),
    testLabels: file('Labels of the test part'),
  },
  required: ['features'],
});

const DatasetParams = Type.Object({
  id: Type.String({ pattern: DATASET_ID_PATTERN, description: 'ds_..., or builtin:... (the image sets take ?scale=raw, also written into the id)' }),
});

const DatasetQuery = Type.Object(
  {
    scale: Type.Optional(
      Type.Enum(['unit', 'raw'], { description: 'builtin:mnist and builtin:fashion-mnist: unit (default) = pixels / 255, raw = 0-255' }),
    ),
  },
  { additionalProperties: false },
);

const ScaleQuery = DatasetQuery.properties.scale;

const RowsQuery = Type.Object(
  {
    split: Type.Optional(Type.Enum(PART_NAMES, { description: "test (default: the held-out part) or train" })),
    offset: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,8})$', description: 'Index of the first row (default 0), below the split\'s rows' })),
    limit: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: `Rows to answer, 1-${MAX_ROWS_PAGE} (default 10)` }),
    ),
    scale: ScaleQuery,
  },
  { additionalProperties: false },
);

/** The id a request names: ?scale= joins a built-in image set's id (builtin:mnist?scale=raw). */
function scaledId(id: string, scale: string | undefined): string {
  if (scale === undefined) return id;
  if (!takesScale(id) || id.includes('?')) {
    throw new ApiError(400, '?scale applies to builtin:mnist and builtin:fashion-mnist (not already given in the id)', 'scale');
  }
  return `${id}?scale=${scale}`;
}

function mediaType(request: FastifyRequest): string | undefined {
  return request.headers['content-type']?.split(';')[0].trim().toLowerCase();
}

/** Upload errors as HTTP: size limits are 413; the form's own faults 400, naming the field. */
function uploadError(err: unknown): unknown {
  if (err instanceof DatasetTooLargeError) return new ApiError(413, err.message, err.field);
  if (err instanceof DatasetError) return err;
  const code = (err as { code?: string })?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new ApiError(413, 'a file of the request body is larger than BODY_LIMIT_BYTES', 'body');
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new ApiError(400, `the request body (a form) has too many parts; it takes the files ${Object.keys(FILE_FIELDS).join(', ')} and the fields ${VALUE_FIELDS.join(', ')}, once each`, 'body');
  }
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE' || code === 'FST_PROTO_VIOLATION') return new ApiError(400, `the request body is not a well-formed multipart form: ${(err as Error).message}`, 'body');
  if (err instanceof Error && /multipart|part terminated|boundary/i.test(err.message)) {
    return new ApiError(400, `the request body is not a well-formed multipart form: ${err.message}`, 'body');
  }
  return err;
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app;

  /** Counts the request's file bytes against BODY_LIMIT_BYTES (multipart is not bounded by Fastify's bodyLimit). */
  function byteBudget() {
    let received = 0;
    return (field: string) => (n: number) => {
      received += n;
      if (received > config.BODY_LIMIT_BYTES) {
        throw new DatasetTooLargeError(field, `the request body is larger than ${config.BODY_LIMIT_BYTES} bytes (BODY_LIMIT_BYTES)`);
      }
    };
  }

  async function run(session: UploadSession, feed: () => Promise<void>): Promise<DatasetInfo> {
    try {
      await feed();
      return await session.finish();
    } catch (err) {
      await session.abort().catch((abortErr: unknown) => app.log.error({ err: abortErr, datasetId: session.id }, 'could not remove a failed upload'));
      throw uploadError(err);
    }
  }

  async function uploadForm(request: FastifyRequest): Promise<DatasetInfo> {
    const session = await startUpload(app.store, datasetLimits(config), 'files');
    const budget = byteBudget();
    return run(session, async () => {
      for await (const part of request.parts()) {
        const field = part.fieldname;
        if (part.type === 'field') {
          if (isFileField(field)) throw new DatasetError(field, `must be a file (curl -F ${field}=@data.csv), not a value`);
          if (part.valueTruncated) throw new DatasetError(field, `is longer than ${MULTIPART_FIELD_BYTES} bytes`);
          session.setField(field, String(part.value));
        } else {
          if (isValueField(field)) {
            part.file.resume();
            throw new DatasetError(field, `must be a value (curl -F ${field}=...), not a file`);
          }
          await session.addFile(field, part.filename, counted(part.file, budget(field)));
        }
      }
    });
  }

  async function uploadCsvBody(request: FastifyRequest, label: string | undefined, name: string | undefined): Promise<DatasetInfo> {
    if (label === undefined) throw new ApiError(400, 'a CSV upload needs ?label=<column> naming the label column', 'label');
    const session = await startUpload(app.store, datasetLimits(config), 'body');
    const budget = byteBudget();
    try {
      return await run(session, async () => {
        session.setField('label', label);
        if (name !== undefined) session.setField('name', name);
        await session.addFile('features', 'body', counted(request.body as Readable, budget('body')), 'csv');
      });
    } catch (err) {
      if (err instanceof DatasetError && err.field === 'labelColumn') throw new ApiError(400, err.detail, 'label');
      throw err;
    }
  }

  app.post(
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Upload a dataset: JSON rows, a CSV body, or files (CSV, NPY, IDX; gzip allowed) with an optional test part',
        description:
          'application/json: {features: number[][], labels: number[], name?, featureNames?}. text/csv: a header row, ' +
          'numbers only, `?label=<column>` names the label column. multipart/form-data: the files `features` and ' +
          '`labels` (or a CSV `features` file with a `label` field naming its label column), optionally `testFeatures` ' +
          'and `testLabels`, and the fields `name` and `scale`; each file is CSV, NPY or IDX, gzipped or not, and is ' +
          'streamed into binary storage (uint8 when the file holds unsigned bytes, else float32). Rows, features, ' +
          'values and sizes are validated; errors name the file and the line or byte. The answer carries per-feature ' +
          'statistics of each part.',
        querystring: UploadQuery,
        body: {
          content: {
            'application/json': { schema: DatasetUpload },
            'text/csv': { schema: Type.Unknown({ description: 'CSV with a header row' }) },
            'multipart/form-data': { schema: UploadForm },
          },
        },
        response: { 201: described(DatasetInfo, 'Stored; Location points at it'), ...commonErrors, ...pickErrors(400, 413, 415) },
      },
    },
    async (request, reply) => {
      let info: DatasetInfo;
      const type = mediaType(request);
      const { label, name } = request.query;
      if (request.isMultipart()) {
        if (label !== undefined || name !== undefined) {
          throw new ApiError(400, '?label and ?name apply to text/csv uploads; a form carries them as the fields label and name', 'label');
        }
        info = await uploadForm(request);
      } else if (type === 'text/csv') {
        info = await uploadCsvBody(request, label, name);
      } else {
        // A body schema keyed by content type validates nothing when there is no Content-Type (and so no
        // body): without this the service would read `features` of undefined (a 500).
        if (typeof request.body !== 'object' || request.body === null) {
          throw new ApiError(
            400,
            'the request body is required: send application/json {features, labels}, text/csv with ?label=<column>, or multipart/form-data files',
            'body',
          );
        }
        if (label !== undefined || name !== undefined) {
          throw new ApiError(400, '?label and ?name apply to text/csv uploads; a JSON upload carries them in the body', 'label');
        }
        info = await createDatasetFromUpload(app.store, request.body as DatasetUpload, datasetLimits(config));
      }
      request.log.info({ datasetId: info.id, rows: info.rows, testRows: info.test?.rows, features: info.features }, 'dataset stored');
      return reply.code(201).header('location', `/v1/datasets/${encodeURIComponent(info.id)}`).send(info);
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
      const builtins = (await Promise.all(listBuiltinIds().map((id) => builtinInfo(id)))).filter((d) => d !== null);
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
        summary: 'A dataset: sizes, splits, storage and per-feature statistics (also the builtin:* ones)',
        description:
          'Built-in: builtin:blobs (1,000 rows), builtin:placement (400), builtin:mnist (8,000 train + 2,000 test) and ' +
          'builtin:fashion-mnist (60,000 + 10,000; needs Debian\'s dataset-fashion-mnist), the image sets with ' +
          '?scale=unit (default, pixels / 255) or ?scale=raw (0-255), as a query or in the id (builtin:mnist?scale=raw).',
        params: DatasetParams,
        querystring: DatasetQuery,
        response: { 200: described(DatasetInfo, 'The dataset and its per-feature statistics'), ...commonErrors, ...pickErrors(400, 404) },
      },
    },
    async (request) => {
      const id = scaledId(request.params.id, request.query.scale);
      const info = await getDatasetInfo(app.store, id);
      if (!info) throw new ApiError(404, await missingDatasetMessage(id), 'id');
      return info;
    },
  );

  app.get(
    '/v1/datasets/:id/rows',
    {
      schema: {
        tags: ['datasets'],
        summary: `A page of a dataset's rows (at most ${MAX_ROWS_PAGE}): features with the storage scale applied, and labels`,
        description:
          'Reads just those rows from storage (a dataset is never loaded whole for this). Rows are numbered from 0 ' +
          'within the split; an offset at or past the split\'s rows is 400, naming offset.',
        params: DatasetParams,
        querystring: RowsQuery,
        response: { 200: described(DatasetRows, 'The rows'), ...commonErrors, ...pickErrors(400, 404) },
      },
    },
    async (request) => {
      const { split = 'test', offset: offsetText = '0', limit: limitText = '10' } = request.query;
      const id = scaledId(request.params.id, request.query.scale);
      const offset = Number(offsetText);
      const limit = Number(limitText);
      if (limit > MAX_ROWS_PAGE) throw new ApiError(400, `limit is at most ${MAX_ROWS_PAGE} rows`, 'limit');
      const info = await getDatasetInfo(app.store, id);
      if (!info) throw new ApiError(404, await missingDatasetMessage(id), 'id');
      if (split === 'test' && !info.test) throw new ApiError(400, `dataset ${id} has no test part; ask for ?split=train`, 'split');
      const reader = await openDatasetPart(app.store, id, split);
      if (!reader) throw new ApiError(404, await missingDatasetMessage(id), 'id');
      try {
        if (offset >= reader.rows) {
          throw new ApiError(400, `offset ${offset} is past the last row of the ${split} part (it has ${reader.rows} rows: 0-${reader.rows - 1})`, 'offset');
        }
        const to = Math.min(reader.rows, offset + limit);
        const part = await reader.read(offset, to);
        const features = featureRows(part);
        const rows = features.map((x, i) => ({ index: offset + i, features: x, label: part.y[i] }));
        return { datasetId: info.id, split, offset, rows, total: reader.rows };
      } finally {
        await reader.close();
      }
    },
  );
};

export default routes;
