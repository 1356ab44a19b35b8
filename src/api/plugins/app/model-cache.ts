// Frozen models for prediction: an LRU (util/lru.ts) of MODEL_CACHE_SIZE FrozenModels keyed by
// modelId@epoch, loaded from the store's checkpoints. A named reference (`latest`, `best`, an alias) is
// resolved by the store (store.resolveEpoch, the one way) and remembered for REVALIDATE_MS, so that a hot
// prediction path does not list a directory per request; a loaded model is re-checked against the store
// as often, so a checkpoint saved during training becomes `latest`, an alias moved by another API process
// is followed, and a model deleted or pruned (here or elsewhere) stops being served, within that time.
// Concurrent loads of one key share one read. A model enters the cache, and so is ready, only once its
// engine has loaded it and answered a probe prediction; warm() does that ahead of the first request, and
// moveAlias() before an alias moves, so that a prediction by that alias answers from the old checkpoint
// or the new one, loaded, never in between.
import fp from 'fastify-plugin';
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../../../store/store.js';
import type { FrozenModel, InferenceEngine } from '../../../inference/types.js';
import type { TaskName } from '../../../schemas/model-spec.js';
import type { TrainingQueue } from '../../../queue/types.js';
import { AliasTargetError } from '../../../store/store.js';
import { isBuiltInRef, type CheckpointRef } from '../../../schemas/checkpoint-ref.js';
import { Lru } from '../../../util/lru.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    modelCache: ModelCache;
  }
}

/** How long a resolved name (`latest`, `best`, an alias) and a loaded model are trusted before the store is asked again. */
export const REVALIDATE_MS = 1000;

/** A loaded model and the task it was trained for (FrozenModel does not carry it). */
export interface CachedModel {
  model: FrozenModel;
  task: TaskName;
}

interface Slot {
  entry: CachedModel;
  /** when the store last confirmed that this checkpoint exists */
  checkedAt: number;
}

interface Resolved {
  epoch: number;
  /** when the store said so */
  at: number;
}

export class ModelCache {
  private readonly models: Lru<Slot>;
  /** Per model, each name (`latest`, `best`, aliases) resolved lately: one map per model, so a lookup builds no key. */
  private readonly names: Lru<Map<string, Resolved>>;
  private readonly loading = new Map<string, Promise<CachedModel | null>>();

  constructor(
    private readonly store: Store,
    private readonly engine: InferenceEngine,
    readonly size: number,
    private readonly queue?: TrainingQueue,
    private readonly log?: FastifyBaseLogger,
  ) {
    this.models = new Lru<Slot>(size);
    this.names = new Lru<Map<string, Resolved>>(size * 4);
  }

  /** A loaded model without any await (the hot path of a prediction), or undefined: then call get(). */
  peek(modelId: string, ref: CheckpointRef): CachedModel | undefined {
    const now = Date.now();
    let epoch: number;
    if (typeof ref === 'number') {
      epoch = ref;
    } else {
      const resolved = this.names.get(modelId)?.get(ref);
      if (!resolved || now - resolved.at >= REVALIDATE_MS) return undefined;
      epoch = resolved.epoch;
    }
    const slot = this.models.get(`${modelId}@${epoch}`);
    return slot && now - slot.checkedAt < REVALIDATE_MS ? slot.entry : undefined;
  }

  /** The model at `ref`; 404 unknown model, epoch or alias, 409 no checkpoint yet. */
  async get(modelId: string, ref: CheckpointRef): Promise<CachedModel> {
    const remembered = this.remembered(modelId, ref);
    if (remembered !== undefined) {
      const entry = await this.at(modelId, remembered);
      if (entry) return entry;
      // The name was moved elsewhere (by another process) and its old checkpoint pruned since: the
      // store knows where it points now.
      this.names.peek(modelId)?.delete(ref as string);
    }
    const epoch = await this.resolve(modelId, ref);
    const entry = await this.at(modelId, epoch);
    if (!entry) throw await this.missing(modelId, epoch);
    return entry;
  }

  /**
   * Loads and probes the model at `ref` unless it is loaded already, so that the first prediction does not
   * pay for it; resolves with the epoch once it is ready. Rejects as get().
   */
  async warm(modelId: string, ref: CheckpointRef): Promise<number> {
    return (await this.get(modelId, ref)).model.epoch;
  }

  /**
   * Points the alias at `epoch`: the checkpoint is loaded and probed first, then the store moves the alias
   * (atomically, under the lock retention prunes under), then this process follows it at once. Until the
   * store has moved it, predictions by the alias answer from the old checkpoint; from then on from the
   * new one, already loaded. A checkpoint that cannot be served (503) or is gone (409, AliasTargetError
   * from the store) leaves the alias where it was.
   */
  async moveAlias(modelId: string, name: string, epoch: number): Promise<void> {
    try {
      await this.warm(modelId, epoch);
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404 && err.field === 'checkpoint') throw new AliasTargetError(modelId, epoch);
      throw err;
    }
    await this.store.setAlias(modelId, name, epoch);
    this.remember(modelId, name, epoch);
  }

  /** Removes the alias in the store, and forgets it here at once; false when there was none. */
  async deleteAlias(modelId: string, name: string): Promise<boolean> {
    const deleted = await this.store.deleteAlias(modelId, name);
    this.names.peek(modelId)?.delete(name);
    return deleted;
  }

  /** Forgets a model at once (it was deleted by this process). */
  invalidate(modelId: string): void {
    this.models.deleteWhere((key) => key.startsWith(`${modelId}@`));
    this.names.delete(modelId);
  }

  /** The epoch a name was resolved to within REVALIDATE_MS (an epoch is itself), else undefined. */
  private remembered(modelId: string, ref: CheckpointRef): number | undefined {
    if (typeof ref === 'number') return undefined;
    const resolved = this.names.get(modelId)?.get(ref);
    return resolved && Date.now() - resolved.at < REVALIDATE_MS ? resolved.epoch : undefined;
  }

  private remember(modelId: string, name: string, epoch: number): void {
    let names = this.names.get(modelId);
    if (!names) {
      names = new Map();
      this.names.set(modelId, names);
    }
    names.set(name, { epoch, at: Date.now() });
  }

  private async resolve(modelId: string, ref: CheckpointRef): Promise<number> {
    const epoch = await this.store.resolveEpoch(modelId, ref);
    if (epoch === null) throw await this.missing(modelId, ref);
    if (typeof ref === 'string') this.remember(modelId, ref, epoch);
    return epoch;
  }

  /** The loaded model at this epoch (loading it if need be), or null when the checkpoint is not there. */
  private async at(modelId: string, epoch: number): Promise<CachedModel | null> {
    const key = `${modelId}@${epoch}`;
    const slot = this.models.get(key);
    if (slot) {
      if (Date.now() - slot.checkedAt < REVALIDATE_MS) return slot.entry;
      if (await this.store.hasCheckpoint(modelId, epoch)) {
        slot.checkedAt = Date.now();
        return slot.entry;
      }
      this.models.delete(key);
      return null;
    }
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(modelId, epoch).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async load(modelId: string, epoch: number): Promise<CachedModel | null> {
    const checkpoint = await this.store.getCheckpoint(modelId, epoch);
    if (!checkpoint) return null;
    const model = await this.engine.load(checkpoint);
    await probe(model);
    const entry: CachedModel = { model, task: checkpoint.spec.task };
    this.models.set(`${modelId}@${epoch}`, { entry, checkedAt: Date.now() });
    return entry;
  }

  /**
   * The error for a checkpoint that is not there: 404 for an unknown model, epoch or alias, 409 for a model
   * whose job has not saved one yet (`latest`, `best`), saying what its job is doing (and whether one will
   * ever come).
   */
  async missing(modelId: string, ref: CheckpointRef, field = 'checkpoint'): Promise<ApiError> {
    const record = await this.store.getModel(modelId);
    if (!record) return new ApiError(404, `no model ${modelId}; list models with GET /v1/models`, 'modelId');
    if (typeof ref === 'number') {
      return new ApiError(404, `model ${modelId} has no checkpoint for epoch ${ref}; see GET /v1/models/${modelId}`, field);
    }
    if (!isBuiltInRef(ref)) {
      return new ApiError(404, `model ${modelId} has no alias ${JSON.stringify(ref)}; its aliases are listed by GET /v1/models/${modelId}`, field);
    }
    const job = await this.queue?.getStatus(record.jobId).catch((err: Error) => {
      this.log?.warn({ err: err.message, modelId }, 'the status of the job of a model without checkpoints cannot be read');
      return undefined;
    });
    const status = job?.status;
    const what =
      status === 'queued' || status === 'running'
        ? `its job ${record.jobId} is ${status}; the first one is saved after epoch 1`
        : status === 'failed'
          ? `its job ${record.jobId} failed (${job?.error ?? 'no reason given'}) and it will get none`
          : status === 'cancelled'
            ? `its job ${record.jobId} was cancelled before the first epoch ended and it will get none`
            : `the status of its job ${record.jobId} is unknown right now`;
    return new ApiError(409, `model ${modelId} has no checkpoint yet (${what})`, field);
  }
}

/**
 * A loaded model answers one prediction before it is served: a row of zeros must give outputDim finite
 * values. An engine that loads a checkpoint it cannot compute (a runtime failing on this graph, parameters
 * that overflow) is found here, not by the first user; 503 because the model exists but cannot be served.
 */
async function probe(model: FrozenModel): Promise<void> {
  let failure: string | undefined;
  try {
    const y = await model.predictOne(new Array<number>(model.inputDim).fill(0));
    if (y.length !== model.outputDim) failure = `it answered ${y.length} values for ${model.outputDim} outputs`;
    else if (!y.every(Number.isFinite)) failure = `it answered ${JSON.stringify(y.slice(0, 4))} for a row of zeros`;
  } catch (err) {
    failure = `it threw: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (failure !== undefined) {
    throw new ApiError(503, `model ${model.modelId} epoch ${model.epoch} cannot be served by the ${model.engine} engine: ${failure}`);
  }
}

export default fp(
  async (app) => {
    app.decorate('modelCache', new ModelCache(app.store, app.inference, app.config.MODEL_CACHE_SIZE, app.queue, app.log));
  },
  { name: 'model-cache', dependencies: ['services'] },
);
