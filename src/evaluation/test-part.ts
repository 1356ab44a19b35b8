// A checkpoint evaluated on its dataset's test part (streamed, frozen statistics): the test metrics a job
// records when it ends, and those of a diverged experiment variant's last finite checkpoint.
import { getDatasetInfo, openDatasetSplit } from '../datasets/dataset-service.js';
import type { InferenceEngine } from '../inference/types.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { TestMetrics } from '../schemas/evaluation.js';
import type { Store } from '../store/store.js';
import { evaluateCheckpoint } from './evaluate.js';

/** Whether the dataset has a test part to evaluate on. */
export async function hasTestPart(store: Store, datasetId: string): Promise<boolean> {
  return Boolean((await getDatasetInfo(store, datasetId))?.test);
}

/**
 * TestMetrics of `doc` on the dataset's test part; undefined when the dataset (or its test part) is gone.
 * A test part the model cannot take (its labels) throws the DatasetError that says why.
 */
export async function evaluateOnTestPart(store: Store, engine: InferenceEngine, datasetId: string, doc: Checkpoint): Promise<TestMetrics | undefined> {
  const reader = await openDatasetSplit(store, datasetId, 'test');
  if (!reader) return undefined;
  try {
    return { checkpoint: doc.epoch, ...(await evaluateCheckpoint(doc, engine, reader, 'test.labels')) };
  } finally {
    await reader.close();
  }
}
