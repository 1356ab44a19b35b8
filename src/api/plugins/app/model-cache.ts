// Frozen models for prediction: an LRU of MODEL_CACHE_SIZE FrozenModels keyed by modelId@epoch, loaded
// from checkpoint documents in the store. 'latest' is resolved with store.getCheckpoint and remembered
// for LATEST_TTL_MS so that a hot prediction path does not list a directory per request; a checkpoint
// saved during training becomes 'latest' within that time. Concurrent loads of one key share one read.
// A model enters the cache, and so is ready, only once its engine has loaded it and answered a probe
// prediction; warm() does that ahead of the first request.
import fp from 'fastify-plugin';
import type { Store } from '../../../store/store.js';
import type { FrozenModel, InferenceEngine } from '../../../inference/types.js';
import type { TaskName } from '../../../schemas/model-spec.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    modelCache: ModelCache;
  }
}

export const LATEST_TTL_MS = 1000;

/** A loaded model and the task it was trained for (FrozenModel does not carry it). */
export interface CachedModel {
  model: FrozenModel;
  task: TaskName;
}

interface Slot {
  entry: CachedModel;
  /** Clock value of the last use: the least recently used slot is evicted. */
  used: number;
}

export class ModelCache {
  /** LRU by a use counter, not by re-inserting into the Map: a hit then costs one lookup and one store. */
  private readonly models = new Map<string, Slot>();
  private clock = 0;
  private readonly loading = new Map<string, Promise<CachedModel>>();
  private readonly latest = new Map<string, { epoch: number; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly engine: InferenceEngine,
    readonly size: number,
  ) {}

  /** A loaded model without any await (the hot path of a prediction), or undefined: then call get(). */
  peek(modelId: string, epoch: number | 'latest'): CachedModel | undefined {
    let n: number;
    if (epoch === 'latest') {
      const memo = this.latest.get(modelId);
      if (!memo || Date.now() - memo.at >= LATEST_TTL_MS) return undefined;
      n = memo.epoch;
    } else {
      n = epoch;
    }
    return this.touch(`${modelId}@${n}`);
  }

  private touch(key: string): CachedModel | undefined {
    const slot = this.models.get(key);
    if (!slot) return undefined;
    slot.used = ++this.clock;
    return slot.entry;
  }

  /**
   * Loads and probes the model at `epoch` (or the newest checkpoint) unless it is loaded already, so that
   * the first prediction does not pay for it; resolves with the epoch once it is ready. Rejects as get().
   */
  async warm(modelId: string, epoch: number | 'latest'): Promise<number> {
    return (await this.get(modelId, epoch)).model.epoch;
  }

  /** The model at `epoch` (or the newest checkpoint); 404 unknown model or epoch, 409 no checkpoint yet. */
  async get(modelId: string, epoch: number | 'latest'): Promise<CachedModel> {
    const n = epoch === 'latest' ? await this.latestEpoch(modelId) : epoch;
    const key = `${modelId}@${n}`;
    const hit = this.touch(key);
    if (hit) return hit;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(modelId, n).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async latestEpoch(modelId: string): Promise<number> {
    const memo = this.latest.get(modelId);
    if (memo && Date.now() - memo.at < LATEST_TTL_MS) return memo.epoch;
    // The store resolves 'latest' from the directory names and keeps the parsed document, so the load
    // that usually follows costs no second read.
    const doc = await this.store.getCheckpoint(modelId, 'latest');
    if (!doc) throw await this.missing(modelId);
    const epoch = doc.epoch;
    this.latest.set(modelId, { epoch, at: Date.now() });
    if (this.latest.size > this.size * 4) this.latest.delete(this.latest.keys().next().value as string);
    return epoch;
  }

  private async load(modelId: string, epoch: number): Promise<CachedModel> {
    const doc = await this.store.getCheckpoint(modelId, epoch);
    if (!doc) {
      if (!(await this.store.getModel(modelId))) throw notFound(modelId);
      throw new ApiError(404, `model ${modelId} has no checkpoint for epoch ${epoch}; see GET /v1/models/${modelId}`, 'checkpoint');
    }
    const model = await this.engine.load(doc);
    await probe(model);
    const entry: CachedModel = { model, task: doc.spec.task };
    this.models.set(`${modelId}@${epoch}`, { entry, used: ++this.clock });
    // A scan per load (loads read and compile a checkpoint: milliseconds), never per hit.
    while (this.models.size > this.size) {
      let oldest: string | undefined;
      let min = Infinity;
      for (const [key, slot] of this.models) {
        if (slot.used < min) {
          min = slot.used;
          oldest = key;
        }
      }
      this.models.delete(oldest as string);
    }
    return entry;
  }

  private async missing(modelId: string): Promise<ApiError> {
    const record = await this.store.getModel(modelId);
    if (!record) return notFound(modelId);
    return new ApiError(
      409,
      `model ${modelId} has no checkpoint yet (job ${record.jobId} is ${record.status}); the first one is saved after epoch 1`,
    );
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

function notFound(modelId: string): ApiError {
  return new ApiError(404, `no model ${modelId}; list models with GET /v1/models`, 'modelId');
}

export default fp(
  async (app) => {
    app.decorate('modelCache', new ModelCache(app.store, app.inference, app.config.MODEL_CACHE_SIZE));
  },
  { name: 'model-cache', dependencies: ['services'] },
);
