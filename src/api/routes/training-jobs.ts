// Training jobs: validate everything that can be checked without training (spec, options, data, limits),
// record the model, then queue a reference to the dataset. Status and cancellation go through the queue.
import { createHash, randomBytes } from 'node:crypto';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { JobAccepted, JobStatus, TrainingJobRequest, type JobStatusName, type TrainingJobPayload } from '../../schemas/job.js';
import type { FastifyReply } from 'fastify';
import type { ModelSpec, ResolvedTraining } from '../../schemas/model-spec.js';
import type { Config } from '../../config/config.js';
import type { ModelRecord } from '../../store/store.js';
import { outputDimFor, resolveSpec, resolveTraining, validateData, validateSpec, validateTraining } from '../../model/spec.js';
import { SpecError } from '../../model/errors.js';
import { getDatasetInfo, missingDatasetMessage, storeDataset } from '../../datasets/dataset-service.js';
import { DatasetError } from '../../datasets/errors.js';
import { checkDatasetForModel, validateDatasetRows } from '../../datasets/validate.js';
import type { DatasetInfo, DatasetPart } from '../../schemas/dataset.js';
import { ApiError } from '../plugins/app/errors.js';
import { rateLimited } from '../plugins/external/rate-limit.js';
import { DATASET_ID_PATTERN, JobIdParams, commonErrors, described, pickErrors } from './schemas.js';
import { datasetLimits } from './datasets.js';

const DATASET_ID = new RegExp(DATASET_ID_PATTERN);
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** 'job_' / 'mdl_' + 22 url-safe characters (128 random bits). */
function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** Stable ids for an idempotency key, scoped to the caller so two clients' keys never collide. */
function idsForKey(principal: string, key: string): { jobId: string; modelId: string; seed: number } {
  const hash = createHash('sha256').update(`${principal}\n${key}`).digest();
  const digest = hash.toString('base64url').slice(0, 22);
  // Twins racing with one key resolve the same default seed, so whichever record lands describes the job.
  return { jobId: `job_${digest}`, modelId: `mdl_${digest}`, seed: hash.readUInt32BE(28) & 0x7fffffff };
}

/** Weights of the resolved network: kernels, biases or BN gamma/beta, and BN moving statistics. */
export function parameterCount(spec: ModelSpec): number {
  let total = 0;
  let inputs = spec.inputDim;
  for (const units of spec.hidden) {
    total += inputs * units + units; // kernel + (bias or beta)
    if (spec.batchNorm.enabled) total += 3 * units; // gamma, moving mean, moving variance
    inputs = units;
  }
  return total + inputs * spec.outputDim + spec.outputDim;
}

/** The deployment's limits (config), which may be lower than the schema's hard caps. */
export function checkLimits(spec: ModelSpec, training: ResolvedTraining, config: Config): void {
  if (spec.hidden.length > config.MAX_LAYERS) {
    throw new SpecError('model.hidden', `has ${spec.hidden.length} layers; this server allows at most MAX_LAYERS=${config.MAX_LAYERS}`);
  }
  spec.hidden.forEach((units, i) => {
    if (units > config.MAX_UNITS) {
      throw new SpecError(`model.hidden[${i}]`, `${units} units exceed MAX_UNITS=${config.MAX_UNITS} of this server`);
    }
  });
  if (training.epochs > config.MAX_EPOCHS) {
    throw new SpecError('training.epochs', `${training.epochs} exceeds MAX_EPOCHS=${config.MAX_EPOCHS} of this server`);
  }
  if (training.batchSize > config.MAX_BATCH_SIZE) {
    throw new SpecError('training.batchSize', `${training.batchSize} exceeds MAX_BATCH_SIZE=${config.MAX_BATCH_SIZE} of this server`);
  }
  const params = parameterCount(spec);
  if (params > config.MAX_PARAMETERS) {
    throw new SpecError('model.hidden', `the network has ${params} parameters; this server allows MAX_PARAMETERS=${config.MAX_PARAMETERS}; use fewer or smaller layers`);
  }
}

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'Repeat a submission safely: the same key returns the first job (1-200 visible ASCII characters)' }),
  ),
});

function accepted(reply: FastifyReply, jobId: string, modelId: string, status: JobStatusName) {
  return reply.code(202).header('location', `/v1/training-jobs/${jobId}`).send({ jobId, modelId, status });
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, queue, config } = app;

  /** The job's data: inline rows checked (not stored yet), or an existing dataset's info (its rows stay on disk). */
  async function dataFor(body: TrainingJobRequest): Promise<{ inline: DatasetPart } | { info: DatasetInfo }> {
    if ((body.datasetId === undefined) === (body.data === undefined)) {
      throw new ApiError(400, 'send exactly one of datasetId (an uploaded or builtin:* dataset) and data (inline rows)', 'datasetId');
    }
    if (body.data !== undefined) {
      try {
        return { inline: validateDatasetRows(body.data.features, body.data.labels, datasetLimits(config)) };
      } catch (err) {
        if (err instanceof DatasetError) throw new ApiError(400, `data.${err.message}`, `data.${err.field}`);
        throw err;
      }
    }
    const id = body.datasetId as string;
    if (!DATASET_ID.test(id)) throw new ApiError(400, `datasetId ${JSON.stringify(id)} is not a dataset id (ds_... or builtin:...)`, 'datasetId');
    const info = await getDatasetInfo(store, id);
    if (!info) throw new ApiError(404, await missingDatasetMessage(id), 'datasetId');
    return { info };
  }

  app.post(
    '/v1/training-jobs',
    {
      config: rateLimited(config),
      schema: {
        tags: ['training'],
        summary: 'Queue a training job',
        description:
          'Give exactly one of `datasetId` and `data`. The model specification, training options, data and the ' +
          "server's limits are validated before anything is queued. Follow the job at Location (or its /events " +
          'stream). With an Idempotency-Key header, a repeated submission returns the first job.',
        headers: IdempotencyHeaders,
        body: TrainingJobRequest,
        response: { 202: described(JobAccepted, 'Queued; Location points at the job'), ...commonErrors, ...pickErrors(400, 404, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
        throw new ApiError(400, 'Idempotency-Key must be 1-200 visible ASCII characters', 'Idempotency-Key');
      }
      const body = request.body;
      const principal = request.principal ?? 'anonymous';
      const ids = key === undefined ? { jobId: newId('job'), modelId: newId('mdl') } : idsForKey(principal, key);
      // A repeated key finds the first submission's record (and so its dataset and resolved spec).
      const previous = key === undefined ? null : await store.getModel(ids.modelId);
      if (previous) {
        const neverQueued = previous.status === 'failed' && (previous.error ?? '').startsWith('not queued');
        const current = neverQueued ? null : await queue.getStatus(previous.jobId);
        if (current || (previous.status !== 'queued' && !neverQueued)) {
          return accepted(reply, previous.jobId, previous.modelId, current?.status ?? previous.status);
        }
        // The first attempt stored the record but never reached the queue: queue it now.
      }

      let record: ModelRecord;
      if (previous) {
        record = previous;
      } else {
        const found = await dataFor(body);
        const training = resolveTraining(
          body.training?.seed === undefined && 'seed' in ids ? { ...body.training, seed: ids.seed } : body.training,
        );
        const dims =
          'inline' in found
            ? { inputDim: found.inline.features, outputDim: outputDimFor(body.model.task, found.inline.y) }
            : { inputDim: found.info.features, outputDim: body.model.task === 'multiclass' ? Math.max(2, found.info.classes ?? 2) : 1 };
        const spec = resolveSpec(body.model, dims, training.seed);
        validateSpec(spec);
        validateTraining(training, spec);
        checkLimits(spec, training, config);
        if ('inline' in found) validateData(spec, found.inline, 'data');
        else checkDatasetForModel(found.info, spec, 'datasetId');
        // Inline rows are stored only once the whole job is known to be valid: a rejected job leaves nothing.
        const datasetId =
          'inline' in found ? (await storeDataset(store, { train: found.inline }, { source: 'inline rows of a training job' })).id : found.info.id;
        const now = new Date().toISOString();
        record = { modelId: ids.modelId, jobId: ids.jobId, datasetId, status: 'queued', spec, training, createdAt: now, updatedAt: now };
        // The record exists before the job does: a worker that starts at once finds it.
        await store.putModel(record);
      }

      const payload: TrainingJobPayload = {
        modelId: record.modelId,
        datasetId: record.datasetId,
        spec: record.spec,
        training: record.training,
        submittedAt: new Date().toISOString(),
      };
      let result;
      try {
        // The queue's own key is scoped like our ids, so two clients' keys never meet.
        result = await queue.submit(payload, record.jobId, key === undefined ? undefined : `${principal}\n${key}`);
      } catch (err) {
        const patch = { status: 'failed' as const, error: `not queued: ${(err as Error).message}`, updatedAt: new Date().toISOString() };
        await store.updateModel(record.modelId, patch).catch(() => undefined);
        throw err;
      }
      if (result.created && previous) {
        await store.updateModel(record.modelId, { status: 'queued', error: undefined, updatedAt: new Date().toISOString() });
      }
      request.log.info({ jobId: result.jobId, modelId: result.modelId, created: result.created }, 'training job accepted');
      // A concurrent twin with the same key may have queued first: report that job's state.
      const status = result.created ? 'queued' : ((await queue.getStatus(result.jobId))?.status ?? 'queued');
      return accepted(reply, result.jobId, result.modelId, status);
    },
  );

  app.get(
    '/v1/training-jobs/:jobId',
    {
      schema: {
        tags: ['training'],
        summary: 'Status, progress and per-epoch history of a job',
        params: JobIdParams,
        response: { 200: described(JobStatus, 'The job'), ...commonErrors, ...pickErrors(400, 404, 503) },
      },
    },
    async (request) => {
      const status = await queue.getStatus(request.params.jobId);
      if (!status) throw new ApiError(404, `no training job ${request.params.jobId}`, 'jobId');
      return status;
    },
  );

  app.delete(
    '/v1/training-jobs/:jobId',
    {
      schema: {
        tags: ['training'],
        summary: 'Cancel a queued or running job',
        description:
          '200 when the job is already finished (returned unchanged) or cancelled; 202 when the cancellation was ' +
          'sent to the worker running it and the status will change shortly. Checkpoints saved so far are kept.',
        params: JobIdParams,
        response: {
          200: described(JobStatus, 'Finished or cancelled'),
          202: described(JobStatus, 'Cancellation requested'),
          ...commonErrors,
          ...pickErrors(400, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const status = await queue.cancel(request.params.jobId);
      if (!status) throw new ApiError(404, `no training job ${request.params.jobId}`, 'jobId');
      // A job cancelled while queued never reaches a worker, so its model record is closed here.
      if (status.status === 'cancelled') {
        const record = await store.getModel(status.modelId);
        if (record && record.status === 'queued') {
          await store.updateModel(status.modelId, { status: 'cancelled' });
        }
      }
      const pending = status.status === 'queued' || status.status === 'running';
      return reply.code(pending ? 202 : 200).send(status);
    },
  );
};

export default routes;
