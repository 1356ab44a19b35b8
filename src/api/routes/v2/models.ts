// The Open Inference Protocol's model metadata and model readiness. A model is a model id, a version one
// of its checkpoint epochs (or a name for one: latest, best, an alias). Ready means loaded by its engine
// and answered its probe (the model cache's warm): asking loads it, so that the first inference does not
// pay for loading.
import type { TSchema } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../plugins/app/errors.js';
import { modelMetadata } from '../../oip/model-binding.js';
import { ModelMetadata, ModelParams, ModelVersionParams, oipErrors, pickOipErrors } from './schemas.js';
import { checkpointOf } from './model-ref.js';

const tags = ['inference-v2'];

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, modelCache } = app;

  async function metadata(modelId: string, version: string | undefined) {
    const record = await store.getModel(modelId);
    if (!record) throw new ApiError(404, `no model ${modelId}; list models with GET /v1/models`, 'model');
    const epochs = (await store.listCheckpoints(modelId)).map((c) => c.epoch);
    if (version !== undefined && (await store.resolveEpoch(modelId, checkpointOf(version))) === null) {
      throw new ApiError(
        404,
        `model ${modelId} has no version ${version}; its versions are its checkpoint epochs, listed by GET /v2/models/${modelId}, and its aliases by GET /v1/models/${modelId}`,
        'version',
      );
    }
    return modelMetadata(modelId, epochs, record.spec);
  }

  /** 200 once loaded and probed; not ready (no checkpoint yet, cannot be served) is 400, as the protocol says. */
  async function ready(modelId: string, version: string | undefined): Promise<void> {
    try {
      await modelCache.warm(modelId, checkpointOf(version));
    } catch (err) {
      if (err instanceof ApiError && (err.statusCode === 409 || err.statusCode === 503)) {
        throw new ApiError(400, `model ${modelId} is not ready: ${err.message}`, err.field);
      }
      throw err;
    }
  }

  const metadataSchema = <P extends TSchema>(summary: string, params: P) => ({
    tags,
    summary,
    params,
    response: { 200: ModelMetadata, ...pickOipErrors(400, 401, 404, 503) },
  });
  const readySchema = <P extends TSchema>(summary: string, params: P) => ({
    tags,
    summary,
    params,
    response: {
      200: { description: 'Ready: loaded and probed (empty body)', type: 'null' },
      ...pickOipErrors(401, 404, 503),
      400: { ...oipErrors[400], description: 'Not ready (no checkpoint yet, or the engine cannot serve it)' },
    },
  });

  app.get('/models/:model', { schema: metadataSchema('Model metadata: versions (epochs), inputs and outputs', ModelParams) }, async (request) =>
    metadata(request.params.model, undefined),
  );
  app.get(
    '/models/:model/versions/:version',
    { schema: metadataSchema('Model metadata, for one version (an epoch, latest, best or an alias)', ModelVersionParams) },
    async (request) => metadata(request.params.model, request.params.version),
  );
  app.get('/models/:model/ready', { schema: readySchema('Model ready (the newest checkpoint); loads it if need be', ModelParams) }, async (request, reply) => {
    await ready(request.params.model, undefined);
    return reply.code(200).send();
  });
  app.get(
    '/models/:model/versions/:version/ready',
    { schema: readySchema('Model ready, for one version (an epoch, latest, best or an alias); loads it if need be', ModelVersionParams) },
    async (request, reply) => {
      await ready(request.params.model, request.params.version);
      return reply.code(200).send();
    },
  );
};

export default routes;
