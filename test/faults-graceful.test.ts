// Fault: SIGTERM to a worker while its job runs (a deploy, a scale-down). The worker exits within
// SHUTDOWN_TIMEOUT_MS, the job goes back to the queue (neither completed nor failed), and a new worker
// resumes it from its last checkpoint, at once (no stalled-job wait), to completion with every epoch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  faultFixture,
  checkpointsOnDisk,
  http,
  isAlive,
  isFinished,
  range1,
  sleep,
  smallJob,
  startReady,
  submitJob,
  waitForJob,
  withServiceOutput,
} from './helpers/service-process.js';

const EPOCHS = 40;
const SHUTDOWN_TIMEOUT_MS = 5000;

const fixture = faultFixture();

test('SIGTERM to a busy worker: exits in time, the job is handed back and resumed by the next worker', { timeout: 90_000 }, withServiceOutput(async (t) => {
  const { redis, dataDir } = await fixture.start();
  const common = {
    redisUrl: redis.url,
    dataDir,
    env: { WORKER_CONCURRENCY: '1', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
  };
  const [api, worker1] = await Promise.all([
    startReady({ ...common, role: 'api', name: 'api' }),
    startReady({ ...common, role: 'worker', name: 'worker-1' }),
  ]);

  const { jobId, modelId } = await submitJob(api, smallJob(EPOCHS, 21, { training: { batchSize: 8 } }));
  const before = await waitForJob(api, jobId, (s) => s.progress.lastSavedEpoch >= 2 || isFinished(s), 30_000, 20);
  assert.equal(before.status, 'running');

  const stop = await worker1.stop('SIGTERM', SHUTDOWN_TIMEOUT_MS + 10_000);
  t.diagnostic(`worker exited ${stop.elapsedMs} ms after SIGTERM (code ${stop.code}, signal ${stop.signal})`);
  assert.equal(stop.signal, null, 'the worker exited by itself, it was not killed');
  assert.equal(stop.code, 0, `exit code on SIGTERM\n${worker1.output().slice(-3000)}`);
  assert.ok(stop.elapsedMs < SHUTDOWN_TIMEOUT_MS, `shutdown took ${stop.elapsedMs} ms, SHUTDOWN_TIMEOUT_MS=${SHUTDOWN_TIMEOUT_MS}`);
  // The sandboxed training process went with it.
  await sleep(200);
  assert.deepEqual(stop.children.filter(isAlive), [], 'training processes outlived the worker');
  assert.ok(
    worker1.logs().some((l) => l.msg === 'training worker stopped'),
    'the worker went through its own shutdown',
  );

  // Handed back: queued, not completed, not failed, no error; it stays so while no worker runs.
  const handedBack = await waitForJob(api, jobId, (s) => s.status !== 'running', 5000, 50);
  assert.equal(handedBack.status, 'queued', `status after the worker's shutdown: ${handedBack.status} ${handedBack.error ?? ''}`);
  assert.equal(handedBack.error, undefined);
  const saved = await checkpointsOnDisk(dataDir, modelId);
  const k = saved.epochs.length;
  assert.ok(k >= 2 && k < EPOCHS, `checkpoints at the shutdown: ${k}`);
  assert.deepEqual(saved.epochs.map((c) => c.epoch), range1(k));
  assert.deepEqual(saved.other, []);
  assert.equal(handedBack.progress.lastSavedEpoch, k, 'progress names the last stored checkpoint');
  const record = await http(api, 'GET', `/v1/models/${modelId}`);
  assert.equal(record.body.status, 'queued');
  await sleep(1000);
  const still = await http(api, 'GET', `/v1/training-jobs/${jobId}`);
  assert.equal(still.body.status, 'queued');
  assert.deepEqual(
    still.body.history.map((h: { epoch: number }) => h.epoch),
    range1(k),
    'the history up to the hand-back survives',
  );

  // A new worker takes it up at once (it is waiting, not stalled) and resumes after checkpoint k.
  const worker2 = await startReady({ ...common, role: 'worker', name: 'worker-2' });
  const startedAt = Date.now();
  const running = await waitForJob(api, jobId, (s) => s.status !== 'queued', 10_000, 50);
  t.diagnostic(`resumed ${Date.now() - startedAt} ms after the new worker was ready`);
  assert.ok(['running', 'completed'].includes(running.status), running.status);
  assert.ok(running.progress.lastSavedEpoch >= k, 'progress did not go back');

  const done = await waitForJob(api, jobId, isFinished, 30_000, 100);
  assert.equal(done.status, 'completed', `${done.status} ${done.error ?? ''}`);
  assert.equal(done.progress.epoch, EPOCHS);
  assert.equal(done.progress.lastSavedEpoch, EPOCHS);
  assert.deepEqual(done.history.map((h) => h.epoch), range1(EPOCHS));
  const final = await checkpointsOnDisk(dataDir, modelId);
  assert.deepEqual(final.epochs.map((c) => c.epoch), range1(EPOCHS));
  assert.deepEqual(final.other, []);
  for (const c of saved.epochs) {
    assert.equal(final.epochs[c.epoch - 1].ino, c.ino, `checkpoint ${c.epoch} was rewritten: the job restarted instead of resuming`);
    assert.equal(final.epochs[c.epoch - 1].doc.createdAt, c.doc.createdAt);
  }
  for (const c of final.epochs) {
    assert.equal(done.history[c.epoch - 1].loss, (c.doc as unknown as { metrics: { loss: number } }).metrics.loss);
  }
  const model = await http(api, 'GET', `/v1/models/${modelId}`);
  assert.equal(model.body.status, 'completed');
  assert.equal(model.body.latestEpoch, EPOCHS);

  await Promise.all([worker2.stop('SIGTERM'), api.stop('SIGTERM')]);
}));
