// Trained models: records with their job's status, checkpoint documents (every weight and BN statistic,
// in forward order, streamed), the per-epoch history, the standard TF.js and ONNX artifacts, deletion.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CheckpointDocument } from '../../schemas/checkpoint.js';
import { documentChunks } from '../../checkpoint/document.js';
import { checkpointToOnnx } from '../../inference/index.js';
import { resolveTraining } from '../../model/spec.js';
import type { ModelRecord } from '../../store/store.js';
import { bestCheckpoint } from '../../store/best-checkpoint.js';
import { parseCheckpointRef } from '../../schemas/checkpoint-ref.js';
import { deleteModel } from '../../training-jobs/delete-model.js';
import { modelStatuses } from '../model-status.js';
import { PageQuery, newestFirst, page } from '../pagination.js';
import { ApiError } from '../plugins/app/errors.js';
import {
  CheckpointParams,
  ModelDetail,
  ModelHistory,
  ModelIdParams,
  ModelList,
  commonErrors,
  content,
  described,
  pickErrors,
} from './schemas.js';

const ListQuery = Type.Object(PageQuery, { additionalProperties: false });

const CheckpointQuery = Type.Object(
  { include: Type.Optional(Type.Enum(['bn'], { description: 'bn: only the batchNorm layers' })) },
  { additionalProperties: false },
);

const position = (r: ModelRecord) => ({ createdAt: r.createdAt, id: r.modelId });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, queue, modelCache } = app;

  async function modelOr404(modelId: string): Promise<ModelRecord> {
    const record = await store.getModel(modelId);
    if (!record) throw new ApiError(404, `no model ${modelId}; list models with GET /v1/models`, 'modelId');
    return record;
  }

  /** The epoch a number, `latest`, `best` or an alias names (one way: the store resolves it); 404/409 when there is none. */
  async function resolveEpoch(modelId: string, text: string): Promise<number> {
    const ref = parseCheckpointRef(text);
    const epoch = await store.resolveEpoch(modelId, ref);
    if (epoch !== null) return epoch;
    throw await modelCache.missing(modelId, ref, 'epoch');
  }

  app.get(
    '/v1/models',
    {
      schema: {
        tags: ['models'],
        summary: 'List models, newest first (paginated)',
        description: "Each model with its job's status as the queue has it (unknown while Redis is unreachable).",
        querystring: ListQuery,
        response: { 200: described(ModelList, 'Models, newest first'), ...commonErrors, ...pickErrors(400) },
      },
    },
    async (request) => {
      const records = (await store.listModels()).sort(newestFirst(position));
      const { items, nextCursor } = page(records, request.query, position);
      const statusOf = await modelStatuses(queue, items.map((r) => r.jobId), request.log);
      return {
        models: items.map((r) => ({
          modelId: r.modelId,
          jobId: r.jobId,
          datasetId: r.datasetId,
          ...statusOf(r.jobId),
          task: r.spec.task,
          inputDim: r.spec.inputDim,
          outputDim: r.spec.outputDim,
          hidden: r.spec.hidden,
          createdAt: r.createdAt,
          updatedAt: r.updatedAt,
        })),
        ...(nextCursor && { nextCursor }),
      };
    },
  );

  app.get(
    '/v1/models/:modelId',
    {
      schema: {
        tags: ['models'],
        summary: "A model: its job's status, resolved spec, training options, kept checkpoints, aliases (latest and best included)",
        params: ModelIdParams,
        response: { 200: described(ModelDetail, 'The model'), ...commonErrors, ...pickErrors(400, 404) },
      },
    },
    async (request) => {
      const record = await modelOr404(request.params.modelId);
      const [checkpoints, set, statusOf] = await Promise.all([
        store.listCheckpoints(record.modelId),
        store.getAliases(record.modelId),
        modelStatuses(queue, [record.jobId], request.log),
      ]);
      const latest = checkpoints.length > 0 ? checkpoints[checkpoints.length - 1].epoch : null;
      return {
        modelId: record.modelId,
        jobId: record.jobId,
        datasetId: record.datasetId,
        ...statusOf(record.jobId),
        spec: record.spec,
        // Records of earlier versions lack the options added since: their defaults are what those jobs ran.
        training: resolveTraining(record.training),
        inputDim: record.spec.inputDim,
        outputDim: record.spec.outputDim,
        checkpoints,
        latestEpoch: latest,
        aliases: latest === null ? set : { ...set, latest, best: bestCheckpoint(checkpoints) as number },
        ...(record.testMetrics && { testMetrics: record.testMetrics }),
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
      };
    },
  );

  app.get(
    '/v1/models/:modelId/history',
    {
      schema: {
        tags: ['models'],
        summary: 'The metrics of every trained epoch (pruned checkpoints included)',
        params: ModelIdParams,
        response: { 200: described(ModelHistory, 'Every epoch, in order'), ...commonErrors, ...pickErrors(400, 404) },
      },
    },
    async (request) => {
      const record = await modelOr404(request.params.modelId);
      return { modelId: record.modelId, epochs: (await store.readEpochs(record.modelId)).records };
    },
  );

  app.delete(
    '/v1/models/:modelId',
    {
      schema: {
        tags: ['models'],
        summary: 'Delete a model: cancel its job, then remove its record, checkpoints and history',
        description:
          'A queued or running job is cancelled first (and awaited, bounded). The model then disappears at once ' +
          '(GET and predictions answer 404 from then on; a prediction already reading it finishes), and its files ' +
          'are removed. Other API processes stop serving it within a second. 503 while Redis is unreachable: ' +
          'the job could not be stopped.',
        params: ModelIdParams,
        response: { 204: { description: 'Deleted', type: 'null' }, ...commonErrors, ...pickErrors(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const record = await modelOr404(request.params.modelId);
      await deleteModel({ store, queue, modelCache, log: request.log }, record);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/models/:modelId/checkpoints/:epoch',
    {
      schema: {
        tags: ['models'],
        summary: 'A checkpoint document: every layer of the forward pass with its weights and BN statistics',
        description:
          'Layers in forward order (dense, batchNorm, activation). At inference a batchNorm layer computes ' +
          'gamma * (h - movingMean) / sqrt(movingVariance + epsilon) + beta. `?include=bn` keeps only the ' +
          'batchNorm layers. Values are the float32 parameters written as JSON numbers (a round trip is ' +
          'bit-identical); the document is streamed, whatever its size.',
        params: CheckpointParams,
        querystring: CheckpointQuery,
        response: { 200: described(CheckpointDocument, 'The checkpoint document'), ...commonErrors, ...pickErrors(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { modelId } = request.params;
      const epoch = await resolveEpoch(modelId, request.params.epoch);
      const checkpoint = await store.getCheckpoint(modelId, epoch);
      if (!checkpoint) throw await modelCache.missing(modelId, epoch, 'epoch');
      const chunks = documentChunks(checkpoint, { bnOnly: request.query.include === 'bn' });
      return (reply as FastifyReply).type('application/json; charset=utf-8').send(Readable.from(chunks, { objectMode: false }));
    },
  );

  for (const artifact of ['model.json', 'weights.bin'] as const) {
    const type = artifact === 'model.json' ? 'application/json' : 'application/octet-stream';
    app.get(
      `/v1/models/:modelId/checkpoints/:epoch/${artifact}`,
      {
        schema: {
          tags: ['models'],
          summary:
            artifact === 'model.json'
              ? 'TF.js layers model (tf.loadLayersModel(url)); its weightsManifest points at weights.bin beside it'
              : 'TF.js weights (float32, little-endian) named by model.json',
          params: CheckpointParams,
          response: {
            200: content(type, artifact === 'model.json' ? Type.Object({}, { additionalProperties: true }) : Type.String({ format: 'binary' }), `The ${artifact} artifact`),
            ...commonErrors,
            ...pickErrors(400, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const { modelId } = request.params;
        const epoch = await resolveEpoch(modelId, request.params.epoch);
        const bytes = await store.getArtifact(modelId, epoch, artifact);
        if (!bytes) throw await modelCache.missing(modelId, epoch, 'epoch');
        return reply.type(type).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      },
    );
  }

  app.get(
    '/v1/models/:modelId/checkpoints/:epoch/model.onnx',
    {
      schema: {
        tags: ['models'],
        summary: 'The checkpoint as an ONNX model (opset 15): serve it with onnxruntime, Triton or anything that reads ONNX',
        description:
          'Input x float32 [N, inputDim], output y float32 [N, outputDim]. Layers as in the checkpoint document: Gemm, ' +
          'BatchNormalization in inference mode with the moving mean and variance, activations. Written from the ' +
          'checkpoint on request; the onnx prediction engine runs the same graph with each BN folded into its Gemm.',
        params: CheckpointParams,
        response: {
          200: content('application/octet-stream', Type.String({ format: 'binary' }), 'ONNX ModelProto bytes'),
          ...commonErrors,
          ...pickErrors(400, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const { modelId } = request.params;
      const epoch = await resolveEpoch(modelId, request.params.epoch);
      const checkpoint = await store.getCheckpoint(modelId, epoch);
      if (!checkpoint) throw await modelCache.missing(modelId, epoch, 'epoch');
      const bytes = checkpointToOnnx(checkpoint);
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${modelId}-epoch-${epoch}.onnx"`)
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
  );
};

export default routes;
