// Graceful worker shutdown hands a running job back to the queue (not failed, not completed), and the
// next worker resumes it from the checkpoint already stored instead of starting over.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config/config.js';
import { resolveSpec, resolveTraining } from '../src/model/spec.js';
import { createBullmqTrainingQueue } from '../src/queue/bullmq-training-queue.js';
import type { TrainingQueue } from '../src/queue/types.js';
import type { JobStatus, TrainingJobPayload } from '../src/schemas/job.js';
import { createFsStore } from '../src/store/fs-store.js';
import type { Store } from '../src/store/store.js';
import { startWorker, type TrainingWorker } from '../src/worker/worker.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';
import { waitFor } from './api-helpers.js';


describe('worker shutdown', () => {
  let redis: TestRedis;
  let dataDir: string;
  let config: Config;
  let queue: TrainingQueue;
  let store: Store;
  const workers: TrainingWorker[] = [];
  const logger = pino({ level: 'silent' });

  before(async () => {
    redis = await startTestRedis();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-shutdown-'));
    config = loadConfig({ DATA_DIR: dataDir, REDIS_URL: redis.url, WORKER_CONCURRENCY: '1', LOG_LEVEL: 'silent' });
    queue = createBullmqTrainingQueue({ redisUrl: redis.url, attempts: 3 });
    store = await createFsStore(dataDir);
  });

  after(async () => {
    for (const w of workers) await w.close();
    await queue.close();
    await redis.cleanup();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('requeues a running job on close and the next worker resumes it from its checkpoint', async () => {
    const training = resolveTraining({ epochs: 500, batchSize: 16, seed: 3, progressEveryBatches: 1, checkpoints: { keepLast: 1000 } });
    const p: TrainingJobPayload = {
      modelId: `m-${randomUUID()}`,
      datasetId: 'builtin:blobs',
      spec: resolveSpec({ hidden: [8], task: 'binary' }, { inputDim: 2, outputDim: 1 }, training.seed),
      training,
      submittedAt: new Date().toISOString(),
    };
    const jobId = randomUUID();
    const status = async (pred: (s: JobStatus) => boolean) => {
      const s = await queue.getStatus(jobId);
      return s && pred(s) ? s : undefined;
    };

    const first = await startWorker({ config, logger });
    workers.push(first);
    await queue.submit(p, jobId);
    await waitFor(() => status((s) => s.progress.lastSavedEpoch >= 2), 30_000, 'two checkpoints');

    const t0 = Date.now();
    await first.close();
    assert.ok(Date.now() - t0 < 5000, `close took ${Date.now() - t0} ms`);

    const parked = await queue.getStatus(jobId);
    assert.ok(parked);
    assert.equal(parked.status, 'queued', 'a job interrupted by shutdown goes back to the queue');
    const saved = parked.progress.lastSavedEpoch;
    assert.ok(saved >= 2 && saved < 500);
    assert.equal(parked.attempts, 1);
    const epochOne = (await store.listCheckpoints(p.modelId))[0];
    assert.equal(epochOne.epoch, 1);

    const second = await startWorker({ config, logger });
    workers.push(second);
    const resumed = await waitFor(() =>
      status((s) => s.status === 'running' && s.progress.lastSavedEpoch >= saved + 2), 30_000, 'progress on the next worker');
    assert.equal(resumed.attempts, 2);
    // Continued, not restarted: epoch 1's checkpoint is the original, the epoch log has no gap or repeat.
    const epochs = (await store.readEpochs(p.modelId)).records.map((h) => h.epoch);
    assert.ok(epochs.length >= saved + 2);
    assert.deepEqual(epochs, Array.from({ length: epochs.length }, (_, i) => i + 1));
    assert.equal((await store.listCheckpoints(p.modelId))[0].createdAt, epochOne.createdAt);

    assert.ok(await queue.cancel(jobId));
    const done = await waitFor(() => status((s) => s.status !== 'running'), 10_000, 'cancellation');
    assert.equal(done.status, 'cancelled');
  });
});
