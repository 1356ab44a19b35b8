// Fault: the API process dies (SIGKILL) or is stopped (SIGTERM) and restarted while a worker holds one
// job running and another waits. The API holds no job state of its own: no job is lost, none runs twice,
// every job completes once with checkpoints 1..N once, and status and history survive each restart. The
// running job's training child is frozen (SIGSTOP) across the restarts, so that the job is still running
// however fast the machine; its worker keeps renewing the job's lock meanwhile.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  faultFixture,
  checkpointsOnDisk,
  http,
  isAlive,
  isFinished,
  jobStatus,
  range1,
  smallJob,
  startReady,
  submitJob,
  waitForJob,
  type JobStatusBody,
  type ServiceProcess,
  type StartServiceOptions,
  withServiceOutput,
} from './helpers/service-process.js';

const LONG = 30;
const SHORT = 5;

const fixture = faultFixture();

/** The part of a status that a restart must not change. */
function assertSurvived(after: JobStatusBody, before: JobStatusBody, what: string): void {
  assert.equal(after.jobId, before.jobId);
  assert.equal(after.modelId, before.modelId);
  assert.ok(
    ['queued', 'running', 'completed'].includes(after.status),
    `${what}: status ${after.status} ${after.error ?? ''}`,
  );
  if (before.status === 'completed') assert.equal(after.status, 'completed', what);
  assert.ok(after.progress.lastSavedEpoch >= before.progress.lastSavedEpoch, `${what}: progress went back`);
  // History is append-only: what was reported before the restart is still there, unchanged.
  assert.deepEqual(after.history.slice(0, before.history.length), before.history, `${what}: history changed`);
  assert.ok(after.attempts >= before.attempts && after.attempts <= 1, `${what}: started ${after.attempts} times`);
  assert.equal(after.createdAt, before.createdAt);
}

test('API killed and restarted (SIGKILL, then SIGTERM): no job lost, none run twice, status and history survive', { timeout: 120_000 }, withServiceOutput(async (t) => {
  const { redis, dataDir } = await fixture.start();
  const common = { redisUrl: redis.url, dataDir, env: { WORKER_CONCURRENCY: '1' } };
  const apiOptions: StartServiceOptions = { ...common, role: 'api', name: 'api-1' };
  let api: ServiceProcess;
  let worker: ServiceProcess;
  [api, worker] = await Promise.all([startReady(apiOptions), startReady({ ...common, role: 'worker', name: 'worker' })]);
  // The restarted API listens where the first one did, as a supervisor would restart it.
  apiOptions.port = api.port;

  const long = await submitJob(api, smallJob(LONG, 41, { training: { batchSize: 8 } }));
  const short = await submitJob(api, smallJob(SHORT, 42, { training: { batchSize: 8 } }));
  const longBefore = await waitForJob(api, long.jobId, (s) => s.progress.lastSavedEpoch >= 2 || isFinished(s), 30_000, 20);
  const children = await worker.descendants();
  for (const pid of children) process.kill(pid, 'SIGSTOP');
  const thaw = () => children.forEach((pid) => isAlive(pid) && process.kill(pid, 'SIGCONT'));
  t.after(thaw);
  const shortBefore = await jobStatus(api, short.jobId);
  assert.equal(longBefore.status, 'running');
  assert.equal(shortBefore.status, 'queued', 'with one worker slot the second job waits');

  for (const [i, signal] of (['SIGKILL', 'SIGTERM'] as const).entries()) {
    const [l0, s0] = await Promise.all([jobStatus(api, long.jobId), jobStatus(api, short.jobId)]);
    // The fault hits a running job and a queued one, or the test would prove little.
    assert.equal(l0.status, 'running', `long job before the API's ${signal}`);
    assert.equal(s0.status, 'queued', `short job before the API's ${signal}`);
    const stop = await api.stop(signal);
    if (signal === 'SIGTERM') assert.equal(stop.code, 0, `graceful exit of the API\n${api.output().slice(-2000)}`);
    assert.ok(worker.isRunning(), 'the worker is unaffected by the API going away');
    api = await startReady({ ...apiOptions, name: `api-${i + 2}` });
    const [l1, s1] = await Promise.all([jobStatus(api, long.jobId), jobStatus(api, short.jobId)]);
    assertSurvived(l1, l0, `long job after the API's ${signal}`);
    assertSurvived(s1, s0, `short job after the API's ${signal}`);
    t.diagnostic(`${signal}: API exited in ${stop.elapsedMs} ms; long job ${l1.status} at ${l1.progress.lastSavedEpoch}, short job ${s1.status}`);
  }
  thaw();
  const [longEnd, shortEnd] = await Promise.all([
    waitForJob(api, long.jobId, isFinished, 60_000, 200),
    waitForJob(api, short.jobId, isFinished, 60_000, 200),
  ]);
  for (const [end, epochs, ids] of [
    [longEnd, LONG, long],
    [shortEnd, SHORT, short],
  ] as const) {
    assert.equal(end.status, 'completed', `${ids.jobId}: ${end.status} ${end.error ?? ''}`);
    assert.equal(end.attempts, 1, 'trained once');
    assert.equal(end.progress.epoch, epochs);
    assert.deepEqual(end.history.map((h) => h.epoch), range1(epochs));
    const disk = await checkpointsOnDisk(dataDir, ids.modelId);
    assert.deepEqual(disk.epochs.map((c) => c.epoch), range1(epochs));
    assert.deepEqual(disk.other, []);
    // Written once each, in order: creation times strictly increase with the epoch.
    for (let i = 1; i < disk.epochs.length; i++) {
      assert.ok(disk.epochs[i].doc.createdAt > disk.epochs[i - 1].doc.createdAt, `checkpoint ${i + 1} not written after ${i}`);
    }
    const model = await http(api, 'GET', `/v1/models/${ids.modelId}`);
    assert.equal(model.body.status, 'completed');
    assert.equal(model.body.latestEpoch, epochs);
  }
  // The worker's own account: each job started once and completed once.
  for (const id of [long.jobId, short.jobId]) {
    const lines = worker.logs().filter((l) => l.jobId === id);
    assert.equal(lines.filter((l) => l.msg === 'training job started').length, 1, `${id} started more than once`);
    assert.equal(lines.filter((l) => l.msg === 'training job completed').length, 1, `${id} completed more than once`);
  }
  // Order: the short job waited for the long one (one slot), and so it ran after it.
  const firstShortCkpt = (await checkpointsOnDisk(dataDir, short.modelId)).epochs[0].doc.createdAt;
  const lastLongCkpt = (await checkpointsOnDisk(dataDir, long.modelId)).epochs[LONG - 1].doc.createdAt;
  assert.ok(firstShortCkpt > lastLongCkpt, 'the queued job ran after the running one');

  await Promise.all([api.stop('SIGTERM'), worker.stop('SIGTERM')]);
}));
