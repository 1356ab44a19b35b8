// Frozen models for prediction: an LRU (util/lru.ts) of MODEL_CACHE_SIZE FrozenModels keyed by
// modelId@epoch, loaded from the store's checkpoints. An epoch reference (`latest`, a number) is resolved
// by the store (store.resolveEpoch, the one way) and remembered for REVALIDATE_MS, so that a hot
// prediction path does not list a directory per request; a loaded model is re-checked against the store
// as often, so a checkpoint saved during training becomes `latest`, and a model deleted or pruned (here
// or by another API process) stops being served, within that time. Concurrent loads of one key share one
// read. A model enters the cache, and so is ready, only once its engine has loaded it and answered a probe
// prediction; warm() does that ahead of the first request.
import fp from 'fastify-plugin';
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../../../store/store.js';
import type { FrozenModel, InferenceEngine } from '../../../inference/types.js';
import type { TaskName } from '../../../schemas/model-spec.js';
import type { TrainingQueue } from '../../../queue/types.js';
import { Lru } from '../../../util/lru.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    modelCache: ModelCache;
  }
}

/** How long a resolved `latest` and a loaded model are trusted before the store is asked again. */
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

type Ref = number | 'latest';

export class ModelCache {
  private readonly models: Lru<Slot>;
  private readonly latest: Lru<{ epoch: number; at: number }>;
  private readonly loading = new Map<string, Promise<CachedModel>>();

  constructor(
    private readonly store: Store,
    private readonly engine: InferenceEngine,
    readonly size: number,
    private readonly queue?: TrainingQueue,
    private readonly log?: FastifyBaseLogger,
  ) {
    this.models = new Lru<Slot>(size);
    this.latest = new Lru<{ epoch: number; at: number }>(size * 4);
  }

  /** A loaded model without any await (the hot path of a prediction), or undefined: then call get(). */
  peek(modelId: string, ref: Ref): CachedModel | undefined {
    const now = Date.now();
    let epoch: number;
    if (ref === 'latest') {
      const memo = this.latest.get(modelId);
      if (!memo || now - memo.at >= REVALIDATE_MS) return undefined;
      epoch = memo.epoch;
    } else {
      epoch = ref;
    }
    const slot = this.models.get(`${modelId}@${epoch}`);
    return slot && now - slot.checkedAt < REVALIDATE_MS ? slot.entry : undefined;
  }

  /** The model at `ref`; 404 unknown model or epoch, 409 no checkpoint yet. */
  async get(modelId: string, ref: Ref): Promise<CachedModel> {
    const epoch = await this.resolve(modelId, ref);
    const key = `${modelId}@${epoch}`;
    const slot = this.models.get(key);
    if (slot) {
      if (Date.now() - slot.checkedAt < REVALIDATE_MS) return slot.entry;
      if (await this.store.hasCheckpoint(modelId, epoch)) {
        slot.checkedAt = Date.now();
        return slot.entry;
      }
      this.models.delete(key);
      throw await this.missing(modelId, epoch);
    }
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(modelId, epoch).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  /**
   * Loads and probes the model at `ref` unless it is loaded already, so that the first prediction does not
   * pay for it; resolves with the epoch once it is ready. Rejects as get().
   */
  async warm(modelId: string, ref: Ref): Promise<number> {
    return (await this.get(modelId, ref)).model.epoch;
  }

  /** Forgets a model at once (it was deleted by this process). */
  invalidate(modelId: string): void {
    this.models.deleteWhere((key) => key.startsWith(`${modelId}@`));
    this.latest.delete(modelId);
  }

  private async resolve(modelId: string, ref: Ref): Promise<number> {
    if (ref === 'latest') {
      const memo = this.latest.get(modelId);
      if (memo && Date.now() - memo.at < REVALIDATE_MS) return memo.epoch;
    }
    const epoch = await this.store.resolveEpoch(modelId, ref);
    if (epoch === null) throw await this.missing(modelId, ref);
    if (ref === 'latest') this.latest.set(modelId, { epoch, at: Date.now() });
    return epoch;
  }

  private async load(modelId: string, epoch: number): Promise<CachedModel> {
    const checkpoint = await this.store.getCheckpoint(modelId, epoch);
    if (!checkpoint) throw await this.missing(modelId, epoch);
    const model = await this.engine.load(checkpoint);
    await probe(model);
    const entry: CachedModel = { model, task: checkpoint.spec.task };
    this.models.set(`${modelId}@${epoch}`, { entry, checkedAt: Date.now() });
    return entry;
  }

  /**
   * The error for a checkpoint that is not there: 404 for an unknown model or epoch, 409 for a model whose
   * job has not saved one yet, saying what its job is doing (and whether one will ever come).
   */
  async missing(modelId: string, ref: Ref, field = 'checkpoint'): Promise<ApiError> {
    const record = await this.store.getModel(modelId);
    if (!record) return new ApiError(404, `no model ${modelId}; list models with GET /v1/models`, 'modelId');
    if (ref !== 'latest') {
      return new ApiError(404, `model ${modelId} has no checkpoint for epoch ${ref}; see GET /v1/models/${modelId}`, field);
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
