// Trained models: records, checkpoint documents (every weight and BN statistic, in forward order) and the
// standard TF.js artifacts, so a model can be inspected, recomputed by hand or loaded elsewhere.
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CheckpointDocument } from '../../schemas/checkpoint.js';
import { checkpointToOnnx } from '../../inference/index.js';
import type { ModelRecord } from '../../store/store.js';
import { ApiError } from '../plugins/app/errors.js';
import { CheckpointParams, ModelDetail, ModelIdParams, ModelList, commonErrors, content, described, pickErrors } from './schemas.js';

const ListQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: 'At most this many (1-9999, default 100), newest first' })) },
  { additionalProperties: false },
);

const CheckpointQuery = Type.Object(
  { include: Type.Optional(Type.Enum(['bn'], { description: 'bn: only the batchNorm layers' })) },
  { additionalProperties: false },
);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { store } = app;

  async function modelOr404(modelId: string): Promise<ModelRecord> {
    const record = await store.getModel(modelId);
    if (!record) throw new ApiError(404, `no model ${modelId}; list models with GET /v1/models`, 'modelId');
    return record;
  }

  /** Epoch number for `latest` or a number string; 404/409 when there is none. */
  async function resolveEpoch(modelId: string, epoch: string): Promise<number> {
    if (epoch !== 'latest') return Number(epoch);
    const list = await store.listCheckpoints(modelId);
    if (list.length > 0) return list[list.length - 1].epoch;
    const record = await modelOr404(modelId);
    throw new ApiError(409, `model ${modelId} has no checkpoint yet (its job is ${record.status})`, 'epoch');
  }

  async function checkpointMissing(modelId: string, epoch: number): Promise<never> {
    await modelOr404(modelId);
    throw new ApiError(404, `model ${modelId} has no checkpoint for epoch ${epoch}; see GET /v1/models/${modelId}`, 'epoch');
  }

  app.get(
    '/v1/models',
    {
      schema: {
        tags: ['models'],
        summary: 'List models, newest first',
        querystring: ListQuery,
        response: { 200: described(ModelList, 'Models, newest first'), ...commonErrors, ...pickErrors(400) },
      },
    },
    async (request) => {
      const limit = Number(request.query.limit ?? 100);
      const records = (await store.listModels()).slice(0, limit);
      return {
        models: records.map((r) => ({
          modelId: r.modelId,
          jobId: r.jobId,
          datasetId: r.datasetId,
          status: r.status,
          task: r.spec.task,
          inputDim: r.spec.inputDim,
          outputDim: r.spec.outputDim,
          hidden: r.spec.hidden,
          createdAt: r.createdAt,
          updatedAt: r.updatedAt,
        })),
      };
    },
  );

  app.get(
    '/v1/models/:modelId',
    {
      schema: {
        tags: ['models'],
        summary: 'A model: resolved spec, training options, checkpoints',
        params: ModelIdParams,
        response: { 200: described(ModelDetail, 'The model'), ...commonErrors, ...pickErrors(400, 404) },
      },
    },
    async (request) => {
      const record = await modelOr404(request.params.modelId);
      const checkpoints = await store.listCheckpoints(record.modelId);
      return {
        modelId: record.modelId,
        jobId: record.jobId,
        datasetId: record.datasetId,
        status: record.status,
        ...(record.error !== undefined && { error: record.error }),
        spec: record.spec,
        training: record.training,
        inputDim: record.spec.inputDim,
        outputDim: record.spec.outputDim,
        checkpoints,
        latestEpoch: checkpoints.length > 0 ? checkpoints[checkpoints.length - 1].epoch : null,
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
      };
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
          'batchNorm layers.',
        params: CheckpointParams,
        querystring: CheckpointQuery,
        response: { 200: described(CheckpointDocument, 'The checkpoint document'), ...commonErrors, ...pickErrors(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { modelId } = request.params;
      const epoch = await resolveEpoch(modelId, request.params.epoch);
      const doc = await store.getCheckpoint(modelId, epoch);
      if (!doc) return checkpointMissing(modelId, epoch);
      const out = request.query.include === 'bn' ? { ...doc, layers: doc.layers.filter((l) => l.type === 'batchNorm') } : doc;
      // Serialised directly: the documents are large and already match the schema (the store wrote them).
      return (reply as FastifyReply).type('application/json; charset=utf-8').send(JSON.stringify(out));
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
        if (!bytes) return checkpointMissing(modelId, epoch);
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
          'document on request; the onnx prediction engine runs the same graph with each BN folded into its Gemm.',
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
      const doc = await store.getCheckpoint(modelId, epoch);
      if (!doc) return checkpointMissing(modelId, epoch);
      const bytes = checkpointToOnnx(doc);
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${modelId}-epoch-${epoch}.onnx"`)
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
  );
};

export default routes;
