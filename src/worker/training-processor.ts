// The sandboxed training processor: BullMQ runs the compiled file in a child process, so the CPU-bound
// training never starves the parent's event loop (which renews the job lock). One job at a time per child.
//
// Outcomes, as BullMQ sees them:
//   completed                                   model record completed
//   UnrecoverableError 'cancelled ...'          user cancel: no retry, record cancelled, checkpoints kept
//   UnrecoverableError <user-facing message>    bad spec/data, divergence: no retry, record failed
//   WaitingError after moveToWait               worker shutdown: back to the wait list, resumed by the next worker
//   any other error                             retried with backoff; the retry resumes from the last checkpoint
import { UnrecoverableError, WaitingError, type SandboxedJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadConfig } from '../config/config.js';
import { getDatasetData } from '../datasets/dataset-service.js';
import { DatasetError } from '../datasets/errors.js';
import { configureTrainEngine, initBackend, train, type TrainingProgress } from '../model/index.js';
import { SpecError, TrainingCancelledError, TrainingDivergedError } from '../model/errors.js';
import type { EpochMetrics } from '../schemas/checkpoint.js';
import type { TrainingJobPayload, TrainingJobProgress } from '../schemas/job.js';
import { createFsStore } from '../store/fs-store.js';
import type { Store } from '../store/store.js';
import { createWorkerConnection } from '../queue/connection.js';
import { ABORT_SHUTDOWN, CANCELLED_REASON_PREFIX, cancelMarkerKey } from '../queue/names.js';

/** Batch-level progress reaches Redis at most this often; epoch ends always do. */
const PROGRESS_INTERVAL_MS = 500;
const MARKER_CHECK_TIMEOUT_MS = 2000;

interface ChildContext {
  store: Store;
  backend: string;
  redis: Redis | null;
}

let context: Promise<ChildContext> | null = null;

// A worker killed with SIGKILL leaves this child behind; its job is resumed elsewhere once the lock
// expires, so an orphan must not keep training and writing beside the resumed run.
process.once('disconnect', () => process.exit(1));

/** Once per child process: configuration, TF.js backend, store, a Redis client for the cancel marker. */
function childContext(): Promise<ChildContext> {
  context ??= (async () => {
    const config = loadConfig(process.env);
    const { backend } = await initBackend(config.TFJS_BACKEND);
    configureTrainEngine({ engine: config.TRAIN_ENGINE, threads: config.TRAIN_THREADS });
    const store = await createFsStore(config.DATA_DIR);
    const redis = config.REDIS_URL ? createWorkerConnection(config.REDIS_URL, undefined, 'bn-processor') : null;
    return { store, backend, redis };
  })().catch((err: unknown) => {
    context = null; // let the next job try again
    throw err;
  });
  return context;
}

/** True when the job was cancelled while queued. Unknown (Redis trouble) counts as not cancelled: the worker's sweep catches it. */
async function cancelledBeforeStart(redis: Redis | null, jobId: string): Promise<boolean> {
  if (!redis) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const found = await Promise.race([
      redis.exists(cancelMarkerKey(jobId)),
      new Promise<number>((resolve) => (timer = setTimeout(() => resolve(0), MARKER_CHECK_TIMEOUT_MS))),
    ]);
    return found === 1;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function unrecoverable(message: string): UnrecoverableError {
  return new UnrecoverableError(message);
}

function cancelledMessage(lastSavedEpoch: number): string {
  return `${CANCELLED_REASON_PREFIX} by request; last saved epoch ${lastSavedEpoch}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export default async function trainingProcessor(
  job: SandboxedJob<TrainingJobPayload>,
  token?: string,
  signal?: AbortSignal,
): Promise<{ epochs: number; backend: string; lastSavedEpoch: number }> {
  const payload = job.data;
  const { modelId, training } = payload;
  const ctx = await childContext();
  const { store } = ctx;
  const now = () => new Date().toISOString();

  if (await cancelledBeforeStart(ctx.redis, String(job.id))) {
    await store.updateModel(modelId, { status: 'cancelled', updatedAt: now() }).catch(() => null);
    throw unrecoverable(`${CANCELLED_REASON_PREFIX} by request before it started`);
  }

  // The API writes the record at submission; a job queued by other means still gets one.
  const existing = await store.getModel(modelId);
  if (existing) {
    await store.updateModel(modelId, { status: 'running', error: undefined, updatedAt: now() });
  } else {
    await store.putModel({
      modelId,
      jobId: String(job.id),
      datasetId: payload.datasetId,
      status: 'running',
      spec: payload.spec,
      training,
      createdAt: payload.submittedAt,
      updatedAt: now(),
    });
  }

  let lastSavedEpoch = 0;
  let history: EpochMetrics[] = [];
  let sentAt = 0;
  let batches = 0;
  let last: TrainingJobProgress | null = null;

  const report = async (p: TrainingJobProgress) => {
    last = p;
    sentAt = Date.now();
    await job.updateProgress(p as unknown as object);
  };

  try {
    const data = await getDatasetData(store, payload.datasetId);
    if (!data) {
      throw new DatasetError(
        'datasetId',
        `dataset ${JSON.stringify(payload.datasetId)} does not exist (any more); upload it again or use a builtin:* dataset`,
      );
    }

    // Resume after the newest complete checkpoint: a retried or interrupted job continues, it does not restart.
    let resume: Parameters<typeof train>[0]['resume'];
    const checkpoint = await store.getCheckpoint(modelId, 'latest');
    if (checkpoint) {
      const state = await store.getTrainingState(modelId, checkpoint.epoch);
      if (state) {
        resume = { checkpoint, state };
        lastSavedEpoch = checkpoint.epoch;
        history = state.history.filter((h) => h.epoch <= checkpoint.epoch);
        await job.log(`resuming after the checkpoint of epoch ${checkpoint.epoch}`);
      }
    }

    if (resume && lastSavedEpoch >= training.epochs) {
      // Finished before the previous attempt could report it: nothing left to train.
      const m = resume.checkpoint.metrics;
      await report(progressFrom(m.epoch, training.epochs, m, ctx.backend, lastSavedEpoch, history));
    } else {
      if (signal?.aborted) throw new TrainingCancelledError(lastSavedEpoch);
      const prev = history[history.length - 1];
      await report(progressFrom(lastSavedEpoch, training.epochs, prev, ctx.backend, lastSavedEpoch, history));
      await train({
        modelId,
        spec: payload.spec,
        training,
        data,
        resume,
        signal,
        onCheckpoint: async (saved) => {
          // Stored first: progress never claims an epoch that a restart could not resume from.
          await store.putCheckpoint(saved.checkpoint, saved.state, saved.artifacts);
          lastSavedEpoch = saved.checkpoint.epoch;
          history = saved.state.history;
          const m = saved.checkpoint.metrics;
          await report(
            progressFrom(m.epoch, training.epochs, m, saved.checkpoint.backend, lastSavedEpoch, history, batches),
          );
        },
        onProgress: async (p: TrainingProgress) => {
          if (p.kind === 'epoch' && batches !== p.batches && last) {
            // The first epoch end tells how many batches an epoch has; onCheckpoint ran before it knew.
            batches = p.batches;
            await report({ ...last, batch: p.batches, batches });
            return;
          }
          // Epoch ends are reported by onCheckpoint, with the stored epoch; only batches remain.
          if (p.kind !== 'batch' || Date.now() - sentAt < PROGRESS_INTERVAL_MS) return;
          await report({
            epoch: p.epoch - 1,
            epochs: p.epochs,
            batch: p.batch,
            batches: p.batches,
            loss: p.loss,
            accuracy: p.accuracy,
            valLoss: last?.valLoss,
            valAccuracy: last?.valAccuracy,
            samplesPerSecond: p.samplesPerSecond,
            lastSavedEpoch,
            backend: ctx.backend,
            history,
          });
        },
      });
    }
    await store.updateModel(modelId, { status: 'completed', error: undefined, updatedAt: now() });
    return { epochs: training.epochs, backend: ctx.backend, lastSavedEpoch };
  } catch (err) {
    if (signal?.aborted || err instanceof TrainingCancelledError) {
      if (signal?.reason === ABORT_SHUTDOWN) {
        // Worker shutdown: not the job's fault. Back to the front of the wait list without using up an
        // attempt; the next worker resumes from the checkpoint already stored.
        await store.updateModel(modelId, { status: 'queued', updatedAt: now() }).catch(() => null);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      await store.updateModel(modelId, { status: 'cancelled', updatedAt: now() }).catch(() => null);
      throw unrecoverable(cancelledMessage(lastSavedEpoch));
    }
    if (
      err instanceof SpecError ||
      err instanceof TrainingDivergedError ||
      err instanceof DatasetError
    ) {
      await store.updateModel(modelId, { status: 'failed', error: err.message, updatedAt: now() }).catch(() => null);
      throw unrecoverable(err.message);
    }
    // Transient (I/O, memory, a bug): BullMQ retries with backoff while attempts remain.
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const patch = finalAttempt
      ? { status: 'failed' as const, error: messageOf(err), updatedAt: now() }
      : { status: 'queued' as const, updatedAt: now() };
    await store.updateModel(modelId, patch).catch(() => null);
    throw err;
  }
}

/** Progress at an epoch boundary; m undefined before the first epoch. */
function progressFrom(
  epoch: number,
  epochs: number,
  m: EpochMetrics | undefined,
  backend: string,
  lastSavedEpoch: number,
  history: EpochMetrics[],
  batches = 0,
): TrainingJobProgress {
  if (!m) {
    return { epoch, epochs, batch: 0, batches, loss: 0, samplesPerSecond: 0, lastSavedEpoch, backend, history };
  }
  return {
    epoch,
    epochs,
    batch: batches,
    batches,
    loss: m.loss,
    valLoss: m.valLoss,
    accuracy: m.accuracy,
    valAccuracy: m.valAccuracy,
    samplesPerSecond: m.samplesPerSecond,
    lastSavedEpoch,
    backend,
    history,
  };
}
