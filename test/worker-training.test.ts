// A real worker (sandboxed processor, TF.js) against a real redis-server: training to completion with a
// checkpoint per epoch, an invalid spec failing without retries, and cancelling a running job.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { resolveSpec, resolveTraining } from '../src/model/spec.js';
import { createBullmqTrainingQueue } from '../src/queue/bullmq-training-queue.js';
import type { JobEvent, TrainingQueue } from '../src/queue/types.js';
import { cancelMarkerKey } from '../src/queue/names.js';
import type { JobStatus, TrainingJobPayload } from '../src/schemas/job.js';
import type { TrainingOptions } from '../src/schemas/model-spec.js';
import { createFsStore } from '../src/store/fs-store.js';
import type { Store } from '../src/store/store.js';
import { startWorker, type TrainingWorker } from '../src/worker/worker.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';
import { waitFor } from './api-helpers.js';

function payload(training: TrainingOptions, inputDim = 2): TrainingJobPayload {
  const t = resolveTraining({ batchSize: 32, seed: 11, ...training });
  return {
    modelId: `m-${randomUUID()}`,
    datasetId: 'builtin:blobs',
    spec: resolveSpec({ hidden: [8], task: 'binary' }, { inputDim, outputDim: 1 }, t.seed),
    training: t,
    submittedAt: new Date().toISOString(),
  };
}


function statusIs(queue: TrainingQueue, jobId: string, pred: (s: JobStatus) => boolean) {
  return async () => {
    const s = await queue.getStatus(jobId);
    return s && pred(s) ? s : undefined;
  };
}

describe('training worker', () => {
  let redis: TestRedis;
  let dataDir: string;
  let queue: TrainingQueue;
  let worker: TrainingWorker;
  let store: Store;

  before(async () => {
    redis = await startTestRedis();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-worker-'));
    const config = loadConfig({
      DATA_DIR: dataDir,
      REDIS_URL: redis.url,
      WORKER_CONCURRENCY: '2',
      TFJS_BACKEND: 'auto',
      LOG_LEVEL: 'silent',
    });
    worker = await startWorker({ config, logger: pino({ level: 'silent' }) });
    queue = createBullmqTrainingQueue({ redisUrl: redis.url, attempts: 3 });
    store = await createFsStore(dataDir);
  });

  after(async () => {
    await worker.close();
    await queue.close();
    await redis.cleanup();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('trains a small job to completion with one checkpoint per epoch', async () => {
    const p = payload({ epochs: 3 });
    const jobId = randomUUID();
    const events: JobEvent[] = [];
    const unsubscribe = await queue.subscribe(jobId, (e) => events.push(e));
    await queue.submit(p, jobId);

    const done = await waitFor(statusIs(queue, jobId, (s) => s.status !== 'queued' && s.status !== 'running'), 30_000, 'completion');
    assert.equal(done.status, 'completed', done.error);
    assert.equal(done.attempts, 1);
    assert.equal(done.progress.epoch, 3);
    assert.equal(done.progress.lastSavedEpoch, 3);
    assert.deepEqual((await store.readEpochs(p.modelId)).records.map((h) => h.epoch), [1, 2, 3]);
    assert.ok(done.backend);
    assert.ok(done.finishedAt);

    const checkpoints = await store.listCheckpoints(p.modelId);
    assert.deepEqual(checkpoints.map((c) => c.epoch), [1, 2, 3]);
    // The record says what the model is, never how its job went: that is the queue's.
    assert.equal('status' in (await store.getModel(p.modelId))!, false);

    const completed = await waitFor(async () => events.find((e) => e.type === 'status' && e.final), 30_000, 'the completed event');
    assert.ok(completed.type === 'status');
    assert.equal(completed.status.status, 'completed');
    assert.equal(completed.status.progress.lastSavedEpoch, 3);
    // Progress events carry the report itself (no history), with the batches per epoch from the first one on.
    const reports = events.flatMap((e) => (e.type === 'progress' ? [e.progress] : []));
    assert.ok(reports.length >= 3, `${reports.length} progress events`);
    assert.ok(reports.every((r) => r.batches > 0 && !('history' in r)), JSON.stringify(reports[0]));
    assert.deepEqual(reports.filter((r) => r.batch === r.batches).map((r) => r.epoch), [1, 2, 3]);
    assert.equal(events.filter((e) => e.type === 'status' && e.final).length, 1, 'exactly one final event');
    unsubscribe();
  });

  it('trains a job queued by an earlier version, without the options added since, with their defaults', async () => {
    const p = payload({ epochs: 2 });
    const { learningRateSchedule: _s, bnStatistics: _b, ...old } = p.training;
    const jobId = randomUUID();
    await queue.submit({ ...p, training: old as TrainingJobPayload['training'] }, jobId);
    const done = await waitFor(statusIs(queue, jobId, (s) => s.status !== 'queued' && s.status !== 'running'), 30_000, 'completion');
    assert.equal(done.status, 'completed', done.error);
    assert.equal(done.stoppedEarly, undefined);
    const history = (await store.readEpochs(p.modelId)).records;
    assert.deepEqual(history.map((h) => h.learningRate), [p.training.learningRate, p.training.learningRate], 'a constant rate');
    const last = (await store.getCheckpoint(p.modelId, 2))!;
    assert.equal(last.bnStatistics, 'ema');
  });

  it('fails a job with an invalid spec at once, without retries', async () => {
    const p = payload({ epochs: 3 }, 5); // blobs has 2 features
    const jobId = randomUUID();
    await queue.submit(p, jobId);
    const done = await waitFor(statusIs(queue, jobId, (s) => s.status === 'failed' || s.status === 'completed'), 30_000, 'failure');
    assert.equal(done.status, 'failed');
    assert.equal(done.attempts, 1);
    assert.match(done.error ?? '', /feature|inputDim|column/i);
  });

  it('retries a job after a transient error, with backoff, until it succeeds', async () => {
    // A stored dataset whose file is unreadable for a moment (a flaky disk): not the job's fault.
    const datasetId = `ds-${randomUUID()}`;
    const blobs = { rows: 4, features: 2, x: Float32Array.from([0, 0, 1, 1, 0, 1, 1, 0]), scale: 1, y: Float32Array.from([0, 1, 1, 0]) };
    await store.putDataset(
      {
        id: datasetId,
        rows: 4,
        features: 2,
        classes: 2,
        stats: { mean: [0.5, 0.5], std: [0.5, 0.5], min: [0, 0], max: [1, 1] },
        storage: { features: 'float32', scale: 1 },
        createdAt: new Date().toISOString(),
      },
      { train: blobs },
    );
    const file = path.join(dataDir, 'datasets', datasetId, 'train-x.f32');
    const good = await fs.readFile(file);
    await fs.writeFile(file, good.subarray(0, 10));

    const p = { ...payload({ epochs: 2, batchSize: 2, validationSplit: 0 }), datasetId };
    const jobId = randomUUID();
    await queue.submit(p, jobId);
    const retrying = await waitFor(statusIs(queue, jobId, (s) => s.attempts === 1 && s.status === 'queued'), 10_000, 'the first failed attempt');
    assert.equal(retrying.error, undefined);
    await fs.writeFile(file, good);

    const done = await waitFor(statusIs(queue, jobId, (s) => s.status === 'completed' || s.status === 'failed'), 30_000, 'completion');
    assert.equal(done.status, 'completed', done.error);
    assert.equal(done.attempts, 2);
  });

  it('cancels a running job: it ends cancelled and keeps its checkpoints', async () => {
    const p = payload({ epochs: 2000, batchSize: 8, progressEveryBatches: 1 });
    const jobId = randomUUID();
    const finals: JobEvent[] = [];
    const unsubscribe = await queue.subscribeAll((id, e) => id === jobId && e.type === 'status' && e.final && finals.push(e));
    await queue.submit(p, jobId);
    await waitFor(statusIs(queue, jobId, (s) => s.progress.lastSavedEpoch >= 1), 30_000, 'the first checkpoint');

    const answer = await queue.cancel(jobId);
    assert.ok(answer);
    const done = await waitFor(statusIs(queue, jobId, (s) => s.status !== 'running'), 10_000, 'cancellation');
    assert.equal(done.status, 'cancelled');
    assert.equal(done.attempts, 1);
    assert.equal(done.error, undefined);
    assert.ok(done.progress.lastSavedEpoch >= 1);
    assert.ok(done.progress.epoch < 2000);

    const checkpoints = await store.listCheckpoints(p.modelId);
    assert.ok(checkpoints.length >= 1);
    assert.equal(checkpoints.at(-1)?.epoch, done.progress.lastSavedEpoch);
    // Cancelling a finished job changes nothing.
    assert.equal((await queue.cancel(jobId))?.status, 'cancelled');
    await waitFor(async () => (finals.length > 0 ? true : undefined), 5000, 'the cancelled event');
    assert.deepEqual(finals.map((e) => e.type === 'status' && e.status.status), ['cancelled']);
    unsubscribe();
  });

  it('stops a running job whose cancel message was lost, from the cancel marker alone', async () => {
    const p = payload({ epochs: 2000, batchSize: 8 });
    const jobId = randomUUID();
    await queue.submit(p, jobId);
    await waitFor(statusIs(queue, jobId, (s) => s.progress.lastSavedEpoch >= 1), 30_000, 'the first checkpoint');
    // Only the marker, no pub/sub message: the worker's periodic sweep must find it.
    const client = new Redis(redis.url);
    try {
      await client.set(cancelMarkerKey(jobId), new Date().toISOString());
    } finally {
      client.disconnect();
    }
    const done = await waitFor(statusIs(queue, jobId, (s) => s.status !== 'running'), 10_000, 'cancellation');
    assert.equal(done.status, 'cancelled');
  });
});
