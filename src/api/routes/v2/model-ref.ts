// Which checkpoint a /v2 path names, and the model cache's answers in the protocol's terms. A {version}
// is a checkpoint epoch, or a name for one (latest, best, an alias: the model cache resolves it as on v1);
// without one the newest checkpoint serves. Answers always give the epoch served as model_version.
import type { FastifyInstance } from 'fastify';
import type { CachedModel } from '../../plugins/app/model-cache.js';
import { ApiError } from '../../plugins/app/errors.js';
import { parseCheckpointRef, type CheckpointRef } from '../../../schemas/checkpoint-ref.js';

export function checkpointOf(version: string | undefined): CheckpointRef {
  return version === undefined ? 'latest' : parseCheckpointRef(version);
}

/**
 * The loaded model (loading and probing it first if need be). The cache's 409, a model whose first
 * checkpoint is not saved yet, is a model that is not available yet: 503, as Triton answers for a model
 * that is not ready.
 */
export async function loadModel(app: FastifyInstance, modelId: string, version: string | undefined): Promise<CachedModel> {
  try {
    return await app.modelCache.get(modelId, checkpointOf(version));
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 409) throw new ApiError(503, err.message, err.field);
    throw err;
  }
}
