// The test metrics a job records when it ends: its last checkpoint evaluated on the dataset's test part
// (streamed, frozen statistics: the evaluation module, as POST /v1/models/:id/evaluate), kept with the
// model record. Once per checkpoint: a retried attempt finds the record's and reuses it.
import type { Logger } from 'pino';
import { DatasetError } from '../datasets/errors.js';
import { evaluateOnTestPart, hasTestPart } from '../evaluation/test-part.js';
import type { InferenceEngine } from '../inference/types.js';
import type { TestMetrics } from '../schemas/evaluation.js';
import { ModelGoneError, type Store } from '../store/store.js';

/** TestMetrics of checkpoint `epoch`, or undefined when the dataset has no test part. */
export async function recordTestMetrics(
  store: Store,
  engine: () => Promise<InferenceEngine>,
  modelId: string,
  datasetId: string,
  epoch: number,
  log: Logger,
): Promise<TestMetrics | undefined> {
  const record = await store.getModel(modelId);
  if (record?.testMetrics?.checkpoint === epoch) return record.testMetrics;
  if (!(await hasTestPart(store, datasetId))) return undefined;
  const doc = await store.getCheckpoint(modelId, epoch);
  if (!doc) throw new ModelGoneError(modelId); // the newest checkpoint is never pruned: only a deletion removes it
  let metrics: TestMetrics | undefined;
  try {
    metrics = await evaluateOnTestPart(store, await engine(), datasetId, doc);
  } catch (err) {
    // The training went well; a test part the model cannot take (its labels) leaves the job without test metrics.
    if (!(err instanceof DatasetError)) throw err;
    log.warn({ err: err.message, checkpoint: epoch }, 'the test part cannot be evaluated; the job records no test metrics');
    return undefined;
  }
  if (!metrics) return undefined; // the dataset was deleted meanwhile
  if (record) await store.updateModel({ ...record, testMetrics: metrics, updatedAt: new Date().toISOString() });
  log.info({ checkpoint: epoch, rows: metrics.rows, loss: metrics.loss, accuracy: metrics.accuracy }, 'test metrics recorded');
  return metrics;
}
