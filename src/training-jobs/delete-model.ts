// Deleting a model: its job is stopped first (a queued one is cancelled, a running one is cancelled and
// awaited, bounded), then the model disappears at once (the store renames it out of the listing) and its
// files go; this process's model cache forgets it at once, other API processes within REVALIDATE_MS
// (their caches re-check the store). A finished job is removed from the queue as well.
import type { FastifyBaseLogger } from 'fastify';
import type { ModelCache } from '../api/plugins/app/model-cache.js';
import type { TrainingQueue } from '../queue/types.js';
import type { ModelRecord, Store } from '../store/store.js';

/** Longest wait for a running job to stop at its next batch (a large model's batch or save takes seconds). */
const STOP_WAIT_MS = 15_000;
const STOP_POLL_MS = 100;

export interface DeleteDeps {
  store: Store;
  queue: TrainingQueue;
  modelCache: Pick<ModelCache, 'invalidate'>;
  log: FastifyBaseLogger;
}

const pending = (status: string | undefined) => status === 'queued' || status === 'running';

export async function deleteModel({ store, queue, modelCache, log }: DeleteDeps, record: ModelRecord): Promise<void> {
  const { modelId, jobId } = record;
  // Throws QueueUnavailableError (503) while Redis is down: a job that may be running cannot be stopped.
  let job = await queue.getStatus(jobId);
  if (pending(job?.status)) {
    job = await queue.cancel(jobId);
    const deadline = Date.now() + STOP_WAIT_MS;
    while (pending(job?.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, STOP_POLL_MS));
      job = await queue.getStatus(jobId);
    }
    // Still running: its next save finds the model gone, and the job ends.
    if (pending(job?.status)) log.warn({ modelId, jobId }, 'deleting a model whose job has not stopped yet');
  }
  await store.deleteModel(modelId);
  modelCache.invalidate(modelId);
  if (job && !pending(job.status)) {
    await queue.remove(jobId).catch((err: Error) => log.warn({ err: err.message, jobId }, 'the deleted model\'s job stays in the queue until its retention ends'));
  }
  log.info({ modelId, jobId }, 'model deleted');
}
