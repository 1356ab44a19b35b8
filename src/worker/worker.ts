// The training worker: a BullMQ Worker whose processor runs sandboxed (one child process per concurrent
// job), plus the cancel channel. Shutdown hands running jobs back to the queue instead of failing them.
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { closeConnection, createWorkerConnection, redactRedisUrl, type ConnectionLogger } from '../queue/connection.js';
import {
  ABORT_CANCELLED,
  ABORT_SHUTDOWN,
  CANCEL_CHANNEL,
  QUEUE_NAME,
  QUEUE_PREFIX,
  cancelMarkerKey,
} from '../queue/names.js';
import type { TrainingJobPayload } from '../schemas/job.js';

export interface WorkerLogger extends ConnectionLogger {
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface StartWorkerOptions {
  /** REDIS_URL must be set (main.ts puts the embedded server's URL there). */
  config: Config;
  logger: WorkerLogger;
}

export interface TrainingWorker {
  close(): Promise<void>;
}

/** Backstop for a lost pub/sub message: active jobs are checked for a cancel marker this often. */
const SWEEP_INTERVAL_MS = 2000;
/** While closing, jobs that started in the meantime are aborted too. */
const SHUTDOWN_ABORT_INTERVAL_MS = 200;

export async function startWorker({ config, logger }: StartWorkerOptions): Promise<TrainingWorker> {
  const url = config.REDIS_URL;
  if (!url) throw new Error('startWorker: REDIS_URL is not set (set it, or run ROLE=all to use the embedded Redis)');
  const log = logger;

  // BullMQ duplicates this client for its blocking connections; we also use it for the marker sweep.
  const connection: Redis = createWorkerConnection(url, log, 'bn-worker');
  const subscriber: Redis = createWorkerConnection(url, log, 'bn-worker-cancel');

  const processorFile = new URL('./training-processor.js', import.meta.url);
  const worker = new Worker<TrainingJobPayload>(QUEUE_NAME, processorFile, {
    connection,
    prefix: QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    // The children read their settings from the environment (see training-processor.ts).
    workerForkOptions: {
      env: {
        ...process.env,
        REDIS_URL: url,
        DATA_DIR: config.DATA_DIR,
        TFJS_BACKEND: config.TFJS_BACKEND,
        TRAIN_ENGINE: config.TRAIN_ENGINE,
        TRAIN_THREADS: String(config.TRAIN_THREADS),
        WORKER_CONCURRENCY: String(config.WORKER_CONCURRENCY),
        LOG_LEVEL: config.LOG_LEVEL,
      },
    },
    // Training runs in the children, so this event loop always renews the lock in time: a short lock only
    // makes a dead worker's job (SIGKILL, OOM) come back sooner.
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    // A job may lose its worker (SIGKILL, OOM) as many times as it may fail.
    maxStalledCount: config.JOB_ATTEMPTS,
  });

  const active = new Set<string>();
  worker.on('active', (job) => {
    active.add(String(job.id));
    log.info(
      { jobId: job.id, modelId: job.data.modelId, datasetId: job.data.datasetId, attempt: job.attemptsStarted },
      'training job started',
    );
  });
  worker.on('completed', (job) => {
    active.delete(String(job.id));
    log.info({ jobId: job.id, modelId: job.data.modelId }, 'training job completed');
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    active.delete(String(job.id));
    const retrying = job.finishedOn === undefined;
    log.warn(
      { jobId: job.id, modelId: job.data.modelId, reason: err.message, attemptsMade: job.attemptsMade, retrying },
      retrying ? 'training job attempt failed; will retry' : 'training job ended without completing',
    );
  });
  worker.on('error', (err) => log.debug({ err: err.message }, 'worker error'));

  function cancel(jobId: string, via: string): void {
    if (worker.cancelJob(jobId, ABORT_CANCELLED)) log.info({ jobId, via }, 'cancelling training job');
  }

  subscriber.on('message', (channel: string, jobId: string) => {
    if (channel === CANCEL_CHANNEL) cancel(jobId, 'request');
  });
  // Not awaited: with Redis down the worker still starts and waits; ioredis resubscribes after reconnects.
  subscriber.subscribe(CANCEL_CHANNEL).catch((err: Error) => log.warn({ err: err.message }, 'cancel channel not subscribed'));

  // Lazy client: make sure it connects for the sweep (a rejection only means it already is connecting).
  connection.connect().catch((err: Error) => log.debug({ err: err.message }, 'worker connection: connect() refused (already connecting)'));
  const sweep = setInterval(() => {
    if (active.size === 0 || connection.status !== 'ready') return;
    const ids = [...active];
    const pipeline = connection.pipeline();
    for (const id of ids) pipeline.exists(cancelMarkerKey(id));
    pipeline
      .exec()
      .then((results) => results?.forEach(([, found], i) => found === 1 && cancel(ids[i], 'sweep')))
      .catch((err: Error) => log.debug({ err: err.message }, 'cancel sweep skipped (Redis did not answer)'));
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  log.info(
    { redis: redactRedisUrl(url), concurrency: config.WORKER_CONCURRENCY, dataDir: config.DATA_DIR },
    'training worker started',
  );

  let closing: Promise<void> | null = null;
  return {
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        // worker.close() stops fetching at once but waits for running jobs, so abort them: the processor
        // moves each back to the wait list at its next batch. Repeated, for a job fetched in between.
        const closed = worker.close();
        const abort = () => worker.cancelAllJobs(ABORT_SHUTDOWN);
        abort();
        const ticker = setInterval(abort, SHUTDOWN_ABORT_INTERVAL_MS);
        try {
          await closed;
        } finally {
          clearInterval(ticker);
        }
        await closeConnection(subscriber);
        await closeConnection(connection);
        log.info({}, 'training worker stopped');
      })();
      return closing;
    },
  };
}
