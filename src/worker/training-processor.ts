// The sandboxed training processor: BullMQ runs the compiled file in a child process, so the CPU-bound
// training never starves the parent's event loop (which renews the job lock). One job at a time per child.
// As BullMQ's guides have it, the processor only returns or throws; the job's state is its status:
//   return                                    completed
//   UnrecoverableError 'cancelled ...'        user cancel: no retry, checkpoints kept
//   UnrecoverableError <what to change>       bad spec/data, divergence, too large, dataset gone: no retry
//   WaitingError after moveToWait             worker shutdown: back to the wait list, resumed by the next worker
//   any other error                           retried with backoff; the retry resumes from the last checkpoint
// Every epoch: the checkpoint is saved, then its metrics appended to the model's epoch log and its layer
// statistics to the BN statistics log, then retention prunes, then progress is reported, so progress
// never claims an epoch a restart could lose. A completed job evaluates its last checkpoint on the
// dataset's test part (test-metrics.ts).
import { UnrecoverableError, WaitingError, type SandboxedJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { loadConfig } from '../config/config.js';
import { REDACT_PATHS } from '../config/log-redaction.js';
import { configureBuiltins } from '../datasets/builtin.js';
import { getDatasetData } from '../datasets/dataset-service.js';
import {
  configureTrainEngine,
  initBackend,
  parameterCount,
  resolveTraining,
  runEnded,
  stoppedEarly,
  train,
  type TrainingProgress,
} from '../model/index.js';
import { TrainingCancelledError } from '../model/errors.js';
import type { EpochMetrics } from '../schemas/checkpoint.js';
import type { TrainingJobPayload, TrainingJobProgress, TrainingJobResult } from '../schemas/job.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { TrainingState } from '../schemas/checkpoint.js';
import { createFsStore } from '../store/fs-store.js';
import { ModelGoneError, type RetentionPolicy, type Store } from '../store/store.js';
import { createWorkerConnection } from '../queue/connection.js';
import { ABORT_SHUTDOWN, CANCELLED_REASON_PREFIX, cancelMarkerKey } from '../queue/names.js';
import { withTimeout } from '../util/with-timeout.js';
import { DatasetMissingError, classifyFailure } from './job-errors.js';
import { recordTestMetrics } from './test-metrics.js';
import { bnStatsOfCheckpoint } from '../model/layer-stats.js';
import { createInferenceEngine } from '../inference/index.js';
import type { InferenceEngine } from '../inference/types.js';

/** Batch-level progress reaches Redis at most this often; epoch ends always do. */
const PROGRESS_INTERVAL_MS = 500;
const MARKER_CHECK_TIMEOUT_MS = 2000;

interface ChildContext {
  store: Store;
  backend: string;
  redis: Redis | null;
  logger: Logger;
  /** the inference engine of the test metrics, made on first use (as the API's INFERENCE_ENGINE says) */
  inference: () => Promise<InferenceEngine>;
}

let context: Promise<ChildContext> | null = null;

// A worker killed with SIGKILL leaves this child behind; its job is resumed elsewhere once the lock
// expires, so an orphan must not keep training and writing beside the resumed run.
process.once('disconnect', () => process.exit(1));

/**
 * Once per child process: configuration, a logger (pino on stdout, which BullMQ pipes into the worker's
 * own output), the TF.js backend, the store, a Redis client for the cancel marker.
 */
function childContext(): Promise<ChildContext> {
  context ??= (async () => {
    const config = loadConfig(process.env);
    configureBuiltins({ fashionMnistDir: config.FASHION_MNIST_DIR });
    const logger = pino({
      level: config.LOG_LEVEL,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid, component: 'training-child' },
    });
    const { backend } = await initBackend(config.TFJS_BACKEND);
    configureTrainEngine({ engine: config.TRAIN_ENGINE, threads: config.TRAIN_THREADS });
    const store = await createFsStore(config.DATA_DIR);
    const redis = config.REDIS_URL ? createWorkerConnection(config.REDIS_URL, logger, 'bn-processor') : null;
    let engine: Promise<InferenceEngine> | undefined;
    const inference = () =>
      (engine ??= createInferenceEngine(config.INFERENCE_ENGINE).then(
        (s) => s.engine,
        (err: unknown) => {
          engine = undefined;
          throw err;
        },
      ));
    return { store, backend, redis, logger, inference };
  })().catch((err: unknown) => {
    context = null; // let the next job try again
    throw err;
  });
  return context;
}

/** True when the job was cancelled while queued. Unknown (Redis trouble) counts as not cancelled: the worker's sweep catches it. */
async function cancelledBeforeStart(redis: Redis | null, jobId: string, log: Logger): Promise<boolean> {
  if (!redis) return false;
  try {
    return (await withTimeout(redis.exists(cancelMarkerKey(jobId)), MARKER_CHECK_TIMEOUT_MS, 'reading the cancel marker')) === 1;
  } catch (err) {
    log.warn({ err }, 'could not read the cancel marker; starting (the worker sweep stops a cancelled job)');
    return false;
  }
}

/** The newest checkpoint that has its training state (only the newest keeps one), to resume from. */
async function resumePoint(store: Store, modelId: string, log: Logger): Promise<{ checkpoint: Checkpoint; state: TrainingState } | undefined> {
  const epoch = await store.resolveEpoch(modelId, 'latest');
  if (epoch === null) return undefined;
  const [checkpoint, state] = await Promise.all([store.getCheckpoint(modelId, epoch), store.getTrainingState(modelId, epoch)]);
  if (checkpoint && state) return { checkpoint, state };
  log.warn({ epoch }, 'the newest checkpoint has no training state; training starts over (saved epochs are kept as they are)');
  return undefined;
}

function progressAt(metrics: EpochMetrics | undefined, epochs: number, batches: number, lastSavedEpoch: number, backend: string): TrainingJobProgress {
  const epoch = metrics?.epoch ?? 0;
  return {
    epoch,
    epochs,
    batch: metrics ? batches : 0,
    batches,
    loss: metrics?.loss,
    valLoss: metrics?.valLoss,
    accuracy: metrics?.accuracy,
    valAccuracy: metrics?.valAccuracy,
    samplesPerSecond: metrics?.samplesPerSecond,
    lastSavedEpoch,
    backend,
  };
}

export default async function trainingProcessor(
  job: SandboxedJob<TrainingJobPayload>,
  token?: string,
  signal?: AbortSignal,
): Promise<TrainingJobResult> {
  const payload = job.data;
  const { modelId, spec } = payload;
  // Resolved again: a job queued by an earlier version lacks the options added since (their defaults apply).
  const training = resolveTraining(payload.training);
  const ctx = await childContext();
  const { store, backend } = ctx;
  const log = ctx.logger.child({ jobId: String(job.id), modelId, attempt: job.attemptsStarted });
  // The best checkpoint is the one early stopping reports as the best, when it watches a loss.
  const by = training.earlyStopping?.monitor ?? (training.validationSplit > 0 ? 'valLoss' : 'loss');
  const policy: RetentionPolicy = { ...training.checkpoints, by };
  let lastSavedEpoch = 0;
  let sentAt = 0;

  const report = async (p: TrainingJobProgress) => {
    sentAt = Date.now();
    await job.updateProgress(p as unknown as object);
  };

  const prune = async () => {
    const pruned = await store.pruneCheckpoints(modelId, policy);
    if (pruned.length > 0) log.debug({ pruned }, 'retention removed checkpoints');
  };

  try {
    if (await cancelledBeforeStart(ctx.redis, String(job.id), log)) {
      throw new UnrecoverableError(`${CANCELLED_REASON_PREFIX} by request before it started`);
    }
    // The API writes the record at submission; a job queued by other means still gets one.
    if (!(await store.getModel(modelId))) {
      const now = new Date().toISOString();
      await store.putModel({ modelId, jobId: String(job.id), datasetId: payload.datasetId, spec, training, createdAt: payload.submittedAt ?? now, updatedAt: now });
    }
    const data = await getDatasetData(store, payload.datasetId);
    if (!data) throw new DatasetMissingError(payload.datasetId);

    // Resume after the newest complete checkpoint: a retried or interrupted job continues, it does not restart.
    const resume = await resumePoint(store, modelId, log);
    lastSavedEpoch = resume?.checkpoint.epoch ?? 0;
    const history = await store.reconcileEpochs(modelId, lastSavedEpoch, resume?.checkpoint.metrics);
    if (history.length !== lastSavedEpoch) {
      log.warn({ lastSavedEpoch, logged: history.length }, 'the epoch log misses epochs it cannot recover; their metrics are lost');
    }
    const bnLogged = await store.reconcileBnStats(modelId, lastSavedEpoch);
    if (resume && bnLogged[bnLogged.length - 1]?.epoch !== lastSavedEpoch) {
      // A crash between the epoch log's line and this one: measured again from the checkpoint (its
      // drift needs the epoch before's, when retention kept it).
      const previous = (await store.getCheckpoint(modelId, lastSavedEpoch - 1)) ?? undefined;
      const probeOptions = { validationSplit: training.validationSplit, separateValidation: false };
      await store.appendBnStats(modelId, bnStatsOfCheckpoint(data.train, probeOptions, resume.checkpoint, previous));
      if (!previous) {
        const why = lastSavedEpoch === 1 ? 'epoch 0 has no checkpoint' : 'the epoch before is pruned';
        log.warn({ epoch: lastSavedEpoch }, `the BN statistics of the last saved epoch were measured again without their drift (${why})`);
      }
    }
    const complete = async (result: TrainingJobResult): Promise<TrainingJobResult> => {
      if (signal?.aborted) throw new TrainingCancelledError(result.lastSavedEpoch);
      let testMetrics;
      try {
        testMetrics = await recordTestMetrics(store, ctx.inference, modelId, payload.datasetId, result.lastSavedEpoch, log);
      } catch (err) {
        if (err instanceof ModelGoneError) throw err; // deleted meanwhile: nothing is left to complete
        // Every epoch is trained and saved: the test metrics are an extra, and their failure must not undo that.
        log.error({ err, checkpoint: result.lastSavedEpoch }, 'test metrics not recorded; the job completes without them');
      }
      return { ...result, ...(testMetrics && { testMetrics }) };
    };

    if (resume && runEnded(training, resume.checkpoint, history)) {
      // Finished before the previous attempt could report it: nothing left to train.
      const stopped = stoppedEarly(training.earlyStopping, history, training.epochs);
      await report(progressAt(resume.checkpoint.metrics, training.epochs, 0, lastSavedEpoch, backend));
      log.info({ lastSavedEpoch, stoppedEarly: stopped }, 'the run had ended already');
      return complete({ epochs: training.epochs, backend, lastSavedEpoch, ...(stopped && { stoppedEarly: stopped }) });
    }
    if (signal?.aborted) throw new TrainingCancelledError(lastSavedEpoch);
    if (resume) {
      log.info({ epoch: lastSavedEpoch }, 'resuming after the checkpoint of this epoch');
      await job.log(`resuming after the checkpoint of epoch ${lastSavedEpoch}`);
    }
    const result = await train({
      modelId,
      spec,
      training,
      // The training part only: a test part is held out for evaluation.
      data: data.train,
      resume: resume && { ...resume, history },
      signal,
      onStart: async ({ startEpoch, batches, probeRows, bnStats }) => {
        log.info({ fromEpoch: startEpoch + 1, epochs: training.epochs, batches, backend }, 'training starts');
        // Epoch 0 once: an attempt that crashed before its first checkpoint logged the same one already.
        if (bnStats && bnLogged[0]?.epoch !== 0) await store.appendBnStats(modelId, bnStats);
        const record = await store.getModel(modelId);
        if (record && record.probeRows !== probeRows) await store.updateModel({ ...record, probeRows, updatedAt: new Date().toISOString() });
        await report(progressAt(resume?.checkpoint.metrics, training.epochs, batches, lastSavedEpoch, backend));
      },
      onCheckpoint: async (saved) => {
        // Stored first: neither the log nor progress ever claims an epoch that a restart could not resume from.
        await store.putCheckpoint(saved.checkpoint, saved.state, saved.tfjs);
        lastSavedEpoch = saved.checkpoint.epoch;
        await store.appendEpoch(modelId, saved.checkpoint.metrics);
        await store.appendBnStats(modelId, saved.bnStats);
        await prune();
        await report(progressAt(saved.checkpoint.metrics, training.epochs, saved.batches, lastSavedEpoch, saved.checkpoint.backend));
      },
      onProgress: async (p: TrainingProgress) => {
        if (Date.now() - sentAt < PROGRESS_INTERVAL_MS) return;
        await report({
          epoch: p.epoch - 1,
          epochs: p.epochs,
          batch: p.batch,
          batches: p.batches,
          loss: p.loss,
          accuracy: p.accuracy,
          samplesPerSecond: p.samplesPerSecond,
          lastSavedEpoch,
          backend,
        });
      },
    });
    // Retention skips an epoch while aliases are being changed: the last word is here.
    await prune();
    const stopped = result.stoppedEarly;
    if (stopped) log.info({ ...stopped, epochs: training.epochs }, 'early stopping ended the run; every trained epoch saved');
    else log.info({ epochs: training.epochs }, 'every epoch trained and saved');
    return complete({ epochs: training.epochs, backend, lastSavedEpoch, ...(stopped && { stoppedEarly: stopped }) });
  } catch (err) {
    if (signal?.aborted || err instanceof TrainingCancelledError) {
      if (signal?.reason === ABORT_SHUTDOWN) {
        // Worker shutdown: not the job's fault. Back to the front of the wait list without using up an
        // attempt; the next worker resumes from the checkpoint already stored.
        log.info({ lastSavedEpoch }, 'worker shutting down; the job goes back to the queue');
        await job.moveToWait(token);
        throw new WaitingError();
      }
      log.info({ lastSavedEpoch }, 'training cancelled by request');
      throw new UnrecoverableError(`${CANCELLED_REASON_PREFIX} by request; last saved epoch ${lastSavedEpoch}`);
    }
    const failure = classifyFailure(err, { parameters: parameterCount(spec) });
    const final = failure instanceof UnrecoverableError;
    log.error({ err, reason: failure.message, lastSavedEpoch }, final ? 'training job failed; not retried' : 'training attempt failed; retried while attempts remain');
    throw failure;
  }
}
