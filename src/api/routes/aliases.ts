// Aliases: names a user gives a model's checkpoints (production, staging, ...), usable wherever an epoch
// is (?checkpoint= on v1, {version} on v2, checkpoint downloads, evaluation). latest and best are built
// in. Moving an alias loads and probes its new checkpoint first, so no prediction by it pays for loading
// or meets a checkpoint that cannot be served; the store moves it atomically and retention never prunes
// an aliased checkpoint.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AliasTargetError, ModelGoneError } from '../../store/store.js';
import { isBuiltInRef } from '../../schemas/checkpoint-ref.js';
import { ApiError } from '../plugins/app/errors.js';
import { Alias, AliasParams, SetAliasBody, commonErrors, described, pickErrors } from './schemas.js';

const tags = ['models'];

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, modelCache } = app;

  async function modelOr404(modelId: string): Promise<void> {
    if (!(await store.getModel(modelId))) throw new ApiError(404, `no model ${modelId}; list models with GET /v1/models`, 'modelId');
  }

  function notBuiltIn(alias: string, verb: string): void {
    if (isBuiltInRef(alias)) {
      throw new ApiError(400, `${alias} is built in (latest: the newest checkpoint, best: the lowest validation loss) and cannot be ${verb}; choose another name`, 'alias');
    }
  }

  /** Why an epoch cannot be aliased: never saved yet, or pruned by retention (epochs are saved 1, 2, 3, ...). */
  async function targetError(modelId: string, alias: string, epoch: number): Promise<ApiError> {
    const kept = await store.listCheckpoints(modelId);
    const newest = kept.length > 0 ? kept[kept.length - 1].epoch : undefined;
    const why =
      newest === undefined
        ? 'the model has no checkpoint yet'
        : epoch < newest
          ? `epoch ${epoch} was pruned by retention (its metrics stay in GET /v1/models/${modelId}/history)`
          : `epoch ${epoch} is not saved (the newest is ${newest})`;
    return new ApiError(409, `alias ${alias} cannot name epoch ${epoch}: ${why}; the kept checkpoints are listed by GET /v1/models/${modelId}`, 'checkpoint');
  }

  app.get(
    '/v1/models/:modelId/aliases/:alias',
    {
      schema: {
        tags,
        summary: 'The epoch an alias (or latest, or best) names',
        params: AliasParams,
        response: { 200: described(Alias, 'The alias'), ...commonErrors, ...pickErrors(400, 404, 409) },
      },
    },
    async (request) => {
      const { modelId, alias } = request.params;
      const epoch = await store.resolveEpoch(modelId, alias);
      if (epoch === null) throw await modelCache.missing(modelId, alias, 'alias');
      return { modelId, alias, checkpoint: epoch, builtIn: isBuiltInRef(alias) };
    },
  );

  app.put(
    '/v1/models/:modelId/aliases/:alias',
    {
      schema: {
        tags,
        summary: 'Point an alias at a checkpoint (creates or moves it)',
        description:
          'The checkpoint is loaded and probed before the alias moves, so the first prediction by the alias does not ' +
          'load it, and one its engine cannot serve (503) leaves the alias where it was. The move is atomic: a ' +
          'prediction by the alias answers from the old checkpoint or the new one, never an error; other API ' +
          'processes follow within a second. An aliased checkpoint is never pruned by retention; a pruned one cannot ' +
          'be aliased (409). `checkpoint` may be a name (latest, best, another alias): the alias keeps the epoch it ' +
          'names now.',
        params: AliasParams,
        body: SetAliasBody,
        response: { 200: described(Alias, 'The alias, moved'), ...commonErrors, ...pickErrors(400, 404, 409, 415) },
      },
    },
    async (request) => {
      const { modelId, alias } = request.params;
      notBuiltIn(alias, 'set');
      await modelOr404(modelId);
      const target = request.body.checkpoint;
      const epoch = typeof target === 'number' ? target : await store.resolveEpoch(modelId, target);
      if (epoch === null) {
        const cause = await modelCache.missing(modelId, target, 'checkpoint');
        throw new ApiError(409, `alias ${alias} cannot name ${target}: ${cause.message}`, 'checkpoint');
      }
      try {
        await modelCache.moveAlias(modelId, alias, epoch);
      } catch (err) {
        if (err instanceof AliasTargetError) throw await targetError(modelId, alias, epoch);
        if (err instanceof ModelGoneError) throw new ApiError(404, `no model ${modelId}; it was deleted`, 'modelId');
        throw err;
      }
      request.log.info({ modelId, alias, checkpoint: epoch }, 'alias moved');
      return { modelId, alias, checkpoint: epoch, builtIn: false };
    },
  );

  app.delete(
    '/v1/models/:modelId/aliases/:alias',
    {
      schema: {
        tags,
        summary: 'Remove an alias; its checkpoint then falls under retention like any other',
        params: AliasParams,
        response: { 204: { description: 'Removed', type: 'null' }, ...commonErrors, ...pickErrors(400, 404) },
      },
    },
    async (request, reply) => {
      const { modelId, alias } = request.params;
      notBuiltIn(alias, 'deleted');
      await modelOr404(modelId);
      if (!(await modelCache.deleteAlias(modelId, alias))) {
        throw new ApiError(404, `model ${modelId} has no alias ${alias}; its aliases are listed by GET /v1/models/${modelId}`, 'alias');
      }
      request.log.info({ modelId, alias }, 'alias removed');
      return reply.code(204).send(null);
    },
  );
};

export default routes;
