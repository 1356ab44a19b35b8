// A variant that diverged is a result, reported as it is: where it diverged, and the test metrics of what
// it left, which is its last finite checkpoint (the processor stops at the first NaN or infinite loss
// and keeps the epochs before it). A variant that diverged in its first epoch left no checkpoint, so it
// has no test metrics at all. Evaluations are cached: a checkpoint never changes once saved.
import type { FastifyBaseLogger } from 'fastify';
import { DatasetError } from '../datasets/errors.js';
import { evaluateOnTestPart, hasTestPart } from '../evaluation/test-part.js';
import { TrainingDivergedError } from '../model/errors.js';
import type { InferenceEngine } from '../inference/types.js';
import type { Diverged } from '../schemas/experiment.js';
import type { TestMetrics } from '../schemas/evaluation.js';
import type { Store } from '../store/store.js';
import { Lru } from '../util/lru.js';

/** Where a failed variant diverged, read from its job's error (TrainingDivergedError's message). */
export function divergedFrom(error: string | undefined): Diverged | undefined {
  const d = TrainingDivergedError.parse(error);
  return d && { epoch: d.epoch, lastFiniteEpoch: d.lastSavedEpoch };
}

export type LastFiniteMetrics = (modelId: string, datasetId: string, epoch: number) => Promise<TestMetrics | undefined>;

export function lastFiniteEvaluator(store: Store, inference: InferenceEngine, log: FastifyBaseLogger): LastFiniteMetrics {
  const cache = new Lru<Promise<TestMetrics | undefined>>(512);
  async function evaluate(modelId: string, datasetId: string, epoch: number): Promise<TestMetrics | undefined> {
    const doc = (await hasTestPart(store, datasetId)) ? await store.getCheckpoint(modelId, epoch) : null;
    if (!doc) return undefined;
    try {
      return await evaluateOnTestPart(store, inference, datasetId, doc);
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err;
      // The model cannot take this test part: that will not change, so the answer is cached as none.
      log.warn({ err: err.message, modelId, epoch }, "a diverged variant's test part cannot be evaluated; it has no test metrics");
      return undefined;
    }
  }
  return (modelId, datasetId, epoch) => {
    if (epoch < 1) return Promise.resolve(undefined);
    const key = `${modelId}\n${epoch}`;
    let pending = cache.get(key);
    if (!pending) {
      pending = evaluate(modelId, datasetId, epoch).catch((err: unknown) => {
        log.error({ err, modelId, epoch }, "could not evaluate a diverged variant's last finite checkpoint; its test metrics are left out");
        cache.delete(key);
        return undefined;
      });
      cache.set(key, pending);
    }
    return pending;
  };
}
