// Fault: the worker process is SIGKILLed while it trains. An API process and a worker process (separate
// roles, shared Redis and DATA_DIR); the worker dies mid-job; a new worker resumes the job from its last
// checkpoint and completes it with exactly the requested epochs, checkpoints 1..N without a gap, and the
// epochs saved before the kill are neither retrained nor rewritten.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  faultFixture,
  checkpointsOnDisk,
  http,
  isAlive,
  range1,
  sleep,
  smallJob,
  startReady,
  submitJob,
  waitForJob,
  isFinished,
  withServiceOutput,
} from './helpers/service-process.js';

const EPOCHS = 40;
/**
 * BullMQ takes over a dead worker's job once its lock has expired (WORKER_LOCK_DURATION_MS) and a
 * stalled-jobs check (every WORKER_STALLED_INTERVAL_MS) has seen it: short values keep this test quick.
 */
const STALL_ENV = { WORKER_LOCK_DURATION_MS: '4000', WORKER_STALLED_INTERVAL_MS: '1000' };
const STALL_RECOVERY_BUDGET_MS = 20_000;

const fixture = faultFixture();

test('a SIGKILLed worker: the job is resumed by a new worker and completes with checkpoints 1..N, no gap, no retraining', { timeout: 150_000 }, withServiceOutput(async (t) => {
  const { redis, dataDir } = await fixture.start();
  const common = { redisUrl: redis.url, dataDir, env: { WORKER_CONCURRENCY: '1', ...STALL_ENV } };
  const [api, worker1] = await Promise.all([
    startReady({ ...common, role: 'api', name: 'api' }),
    startReady({ ...common, role: 'worker', name: 'worker-1' }),
  ]);

  const { jobId, modelId } = await submitJob(api, smallJob(EPOCHS, 11, { training: { batchSize: 8 } }));
  const before = await waitForJob(api, jobId, (s) => s.progress.lastSavedEpoch >= 2 || isFinished(s), 30_000, 20);
  assert.equal(before.status, 'running', `the job must still run when the worker is killed: ${JSON.stringify(before.progress)}`);
  assert.equal(before.attempts, 1);

  // The kill. The sandboxed training process it forked is orphaned: it must not live on and keep writing.
  const kill = await worker1.stop('SIGKILL');
  const killedAt = Date.now();
  assert.equal(kill.signal, 'SIGKILL');
  assert.ok(kill.children.length >= 1, 'the worker trained in a sandboxed child process');
  const orphanDeadline = Date.now() + 10_000;
  while (kill.children.some(isAlive) && Date.now() < orphanDeadline) await sleep(100);
  assert.deepEqual(kill.children.filter(isAlive), [], 'training processes outlived their SIGKILLed worker by 10 s');

  // What survived the kill: complete checkpoints 1..k, nothing else.
  const saved = await checkpointsOnDisk(dataDir, modelId);
  const k = saved.epochs.length;
  assert.ok(k >= 2 && k < EPOCHS, `checkpoints at the kill: ${k}`);
  assert.deepEqual(saved.epochs.map((c) => c.epoch), range1(k));
  // A kill during a save may leave that save's temporary directory (never listed, swept once stale, as
  // faults-save-kill checks); nothing else may be there.
  assert.ok(saved.other.length <= 1 && saved.other.every((n) => n.startsWith('.tmp-')), `entries beside the checkpoints: ${saved.other.join(', ')}`);

  // Nobody trains it now; it is neither completed nor failed.
  const orphaned = (await http(api, 'GET', `/v1/training-jobs/${jobId}`)).body;
  assert.ok(['running', 'queued'].includes(orphaned.status), `status without a worker: ${orphaned.status}`);

  const worker2 = await startReady({ ...common, role: 'worker', name: 'worker-2' });
  const resumed = await waitForJob(api, jobId, (s) => s.attempts >= 2 || isFinished(s), STALL_RECOVERY_BUDGET_MS, 250);
  const recoveryMs = Date.now() - killedAt;
  t.diagnostic(`the killed worker's job was taken up again ${(recoveryMs / 1000).toFixed(1)} s after the kill`);
  assert.ok(resumed.attempts >= 2, 'the job was started again by the new worker');

  const done = await waitForJob(api, jobId, isFinished, 30_000, 100);
  assert.equal(done.status, 'completed', `final status ${done.status}: ${done.error ?? ''}\n${worker2.output().slice(-3000)}`);
  assert.equal(done.error, undefined);
  assert.equal(done.progress.epoch, EPOCHS);
  assert.equal(done.progress.epochs, EPOCHS);
  assert.equal(done.progress.lastSavedEpoch, EPOCHS);
  assert.ok(done.attempts >= 2, `attempts ${done.attempts}: it was resumed`);
  assert.deepEqual(done.history.map((h) => h.epoch), range1(EPOCHS), 'the history covers every epoch once, in order');

  // On disk: exactly 1..N, every document parses and names its epoch, nothing half-written.
  const final = await checkpointsOnDisk(dataDir, modelId);
  assert.deepEqual(final.epochs.map((c) => c.epoch), range1(EPOCHS));
  assert.deepEqual(final.other, saved.other, 'the resumed job left nothing of its own beside the checkpoints');
  for (const c of final.epochs) {
    assert.equal(c.doc.epoch, c.epoch);
    assert.equal(c.doc.modelId, modelId);
  }
  // Resumed, not restarted: the checkpoints saved before the kill are the very same files...
  for (const c of saved.epochs) {
    const now = final.epochs[c.epoch - 1];
    assert.equal(now.ino, c.ino, `checkpoint ${c.epoch} was rewritten after the kill`);
    assert.equal(now.doc.createdAt, c.doc.createdAt, `checkpoint ${c.epoch} was retrained`);
  }
  // ...the ones after it were written after the kill, and the history agrees with the checkpoints.
  for (const c of final.epochs.slice(k)) {
    assert.ok(Date.parse(c.doc.createdAt) >= killedAt - 1000, `checkpoint ${c.epoch} predates the kill`);
  }
  const metricsOf = (c: (typeof final.epochs)[number]) => (c.doc as unknown as { metrics: { loss: number } }).metrics.loss;
  for (const c of final.epochs) assert.equal(done.history[c.epoch - 1].loss, metricsOf(c), `history of epoch ${c.epoch}`);

  // The API's view of the model agrees.
  const model = await http(api, 'GET', `/v1/models/${modelId}`);
  assert.equal(model.status, 200);
  assert.equal(model.body.status, 'completed');
  assert.equal(model.body.latestEpoch, EPOCHS);
  assert.deepEqual(model.body.checkpoints.map((c: { epoch: number }) => c.epoch), range1(EPOCHS));
  const ckpt = await http(api, 'GET', `/v1/models/${modelId}/checkpoints/${EPOCHS}`);
  assert.equal(ckpt.status, 200);
  assert.equal(ckpt.body.epoch, EPOCHS);

  const stopped = await Promise.all([worker2.stop('SIGTERM'), api.stop('SIGTERM')]);
  for (const s of stopped) assert.equal(s.code, 0, 'clean exit on SIGTERM');
}));
