// A variant that diverged is a result, reported as it is: where it diverged, and the test metrics of what
// it left, which is its last finite checkpoint (the processor stops at the first NaN or infinite loss
// and keeps the epochs before it). A variant that diverged in its first epoch left no checkpoint, so it
// has no test metrics at all. Evaluations are cached: a checkpoint never changes once saved.
import type { FastifyBaseLogger } from 'fastify';
import { getDatasetInfo, openDatasetSplit } from '../datasets/dataset-service.js';
import { evaluateCheckpoint } from '../evaluation/evaluate.js';
import type { InferenceEngine } from '../inference/types.js';
import type { Diverged } from '../schemas/experiment.js';
import type { TestMetrics } from '../schemas/evaluation.js';
import type { Store } from '../store/store.js';
import { Lru } from '../util/lru.js';

/** The processor's message (TrainingDivergedError in src/model/errors.ts). */
const DIVERGED = /^training diverged: .* in epoch (\d+), batch \d+; the last finite checkpoint is epoch (\d+)\./;

export function divergedFrom(error: string | undefined): Diverged | undefined {
  const m = error === undefined ? null : DIVERGED.exec(error);
  return m ? { epoch: Number(m[1]), lastFiniteEpoch: Number(m[2]) } : undefined;
}

export type LastFiniteMetrics = (modelId: string, datasetId: string, epoch: number) => Promise<TestMetrics | undefined>;

export function lastFiniteEvaluator(store: Store, inference: InferenceEngine, log: FastifyBaseLogger): LastFiniteMetrics {
  const cache = new Lru<Promise<TestMetrics | undefined>>(512);
  async function evaluate(modelId: string, datasetId: string, epoch: number): Promise<TestMetrics | undefined> {
    const info = await getDatasetInfo(store, datasetId);
    const doc = info?.test ? await store.getCheckpoint(modelId, epoch) : null;
    if (!doc) return undefined;
    const reader = await openDatasetSplit(store, datasetId, 'test');
    if (!reader) return undefined;
    try {
      return { checkpoint: epoch, ...(await evaluateCheckpoint(doc, inference, reader, 'test.labels')) };
    } finally {
      await reader.close();
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
