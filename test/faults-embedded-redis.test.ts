// Fault: ROLE=all with its embedded Redis (no REDIS_URL; append-only file under DATA_DIR/redis) is stopped
// with SIGTERM while one job trains and another waits, then started again on the same DATA_DIR. The
// queue survives in the append-only file: the waiting job runs after the restart, and the interrupted one
// is resumed from its checkpoint and never reported completed before all its epochs are trained.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  checkpointsOnDisk,
  http,
  isAlive,
  isFinished,
  jobStatus,
  range1,
  sleep,
  smallJob,
  startReady,
  stopAll,
  submitJob,
  tempDataDir,
  type JobStatusBody,
  type ServiceProcess,
  type StartServiceOptions,
  withServiceOutput,
} from './helpers/service-process.js';

const LONG = 60;
const SHORT = 5;
const SHUTDOWN_TIMEOUT_MS = 8000;

let dataDir: string | undefined;
after(async () => {
  // Also kills the embedded redis-servers and training processes (the services' descendants) left behind.
  await stopAll();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

/** The embedded redis-server's pid, from the pidfile it keeps under DATA_DIR/redis. */
async function embeddedRedisPid(svc: ServiceProcess): Promise<number> {
  await svc.waitForLog('started embedded redis-server (REDIS_URL unset)', 1000);
  const text = await fs.readFile(path.join(dataDir!, 'redis', 'redis.pid'), 'utf8');
  return Number.parseInt(text, 10);
}

test('embedded Redis: SIGTERM with a running and a queued job, restart on the same DATA_DIR: both complete, the first resumed', { timeout: 120_000 }, withServiceOutput(async (t) => {
  dataDir = await tempDataDir();
  const options: StartServiceOptions = {
    role: 'all',
    name: 'all-1',
    dataDir,
    env: { WORKER_CONCURRENCY: '1', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
  };
  const svc1 = await startReady(options);
  options.port = svc1.port;
  const redisPid1 = await embeddedRedisPid(svc1);
  assert.ok(isAlive(redisPid1));
  const appendOnly = await fs.readdir(path.join(dataDir, 'redis'));
  assert.ok(appendOnly.some((n) => n.startsWith('appendonly')), `no append-only file in DATA_DIR/redis: ${appendOnly.join(', ')}`);

  const long = await submitJob(svc1, smallJob(LONG, 51, { training: { batchSize: 8 } }));
  const short = await submitJob(svc1, smallJob(SHORT, 52, { training: { batchSize: 8 } }));
  const longBefore = await (async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const s = await jobStatus(svc1, long.jobId);
      if (s.progress.lastSavedEpoch >= 2 || isFinished(s) || Date.now() > deadline) return s;
      await sleep(20);
    }
  })();
  assert.equal(longBefore.status, 'running');
  assert.equal((await jobStatus(svc1, short.jobId)).status, 'queued');

  const stop = await svc1.stop('SIGTERM', SHUTDOWN_TIMEOUT_MS + 10_000);
  t.diagnostic(`service exited ${stop.elapsedMs} ms after SIGTERM (code ${stop.code})`);
  assert.equal(stop.code, 0, `graceful exit\n${svc1.output().slice(-3000)}`);
  assert.ok(stop.elapsedMs < SHUTDOWN_TIMEOUT_MS, `shutdown took ${stop.elapsedMs} ms`);
  // Everything it started went with it: its redis-server and its training processes.
  await sleep(200);
  assert.equal(isAlive(redisPid1), false, 'the embedded redis-server outlived the service');
  assert.deepEqual(stop.children.filter(isAlive), [], 'child processes outlived the service');

  // Not completed on disk: the record says queued, the checkpoints stop short of the end.
  const mid = await checkpointsOnDisk(dataDir, long.modelId);
  const k = mid.epochs.length;
  assert.ok(k >= 2 && k < LONG, `checkpoints at the shutdown: ${k}`);
  assert.deepEqual(mid.epochs.map((c) => c.epoch), range1(k));
  // The record describes the model only; whether its job is queued is the queue's to say (checked below).
  const record = JSON.parse(await fs.readFile(path.join(dataDir, 'models', long.modelId, 'model.json'), 'utf8'));
  assert.equal(record.status, undefined);
  assert.deepEqual((await checkpointsOnDisk(dataDir, short.modelId)).epochs, [], 'the waiting job did not start');

  const restartAt = Date.now();
  const svc2 = await startReady({ ...options, name: 'all-2' });
  const redisPid2 = await embeddedRedisPid(svc2);
  assert.notEqual(redisPid2, redisPid1);
  assert.ok(isAlive(redisPid2));

  // Follow both jobs closely: the long one must never read "completed" before all its epochs exist.
  const seen: JobStatusBody[] = [];
  const deadline = Date.now() + 60_000;
  let longEnd: JobStatusBody | undefined;
  let shortEnd: JobStatusBody | undefined;
  while ((!longEnd || !shortEnd) && Date.now() < deadline) {
    const [l, s] = await Promise.all([jobStatus(svc2, long.jobId), jobStatus(svc2, short.jobId)]);
    seen.push(l);
    if (l.status === 'completed') {
      const disk = await checkpointsOnDisk(dataDir, long.modelId);
      assert.equal(disk.epochs.length, LONG, `reported completed with ${disk.epochs.length} of ${LONG} checkpoints`);
    }
    if (isFinished(l)) longEnd = l;
    if (isFinished(s)) shortEnd = s;
    await sleep(100);
  }
  assert.ok(longEnd && shortEnd, `not both finished within 60 s: ${JSON.stringify(seen.at(-1)?.progress)}`);
  const firstAfter = seen[0];
  assert.ok(['queued', 'running'].includes(firstAfter.status), `first status after the restart: ${firstAfter.status}`);
  assert.ok(firstAfter.progress.lastSavedEpoch >= k, 'progress after the restart starts from the saved checkpoint');
  assert.deepEqual(firstAfter.history.slice(0, k).map((h) => h.epoch), range1(k), 'history survives the restart');

  for (const [end, epochs, ids] of [
    [longEnd, LONG, long],
    [shortEnd, SHORT, short],
  ] as const) {
    assert.equal(end.status, 'completed', `${end.status} ${end.error ?? ''}`);
    assert.equal(end.progress.epoch, epochs);
    assert.deepEqual(end.history.map((h) => h.epoch), range1(epochs));
    const disk = await checkpointsOnDisk(dataDir, ids.modelId);
    assert.deepEqual(disk.epochs.map((c) => c.epoch), range1(epochs));
    assert.deepEqual(disk.other, []);
    const model = await http(svc2, 'GET', `/v1/models/${ids.modelId}`);
    assert.equal(model.body.status, 'completed');
  }
  // The long job was resumed, not restarted: its first k checkpoints are the files written before.
  const final = await checkpointsOnDisk(dataDir, long.modelId);
  for (const c of mid.epochs) {
    assert.equal(final.epochs[c.epoch - 1].ino, c.ino, `checkpoint ${c.epoch} was rewritten`);
  }
  for (const c of final.epochs.slice(k)) assert.ok(Date.parse(c.doc.createdAt) >= restartAt - 1000);
  // The queued job ran after the restart, and only once.
  const shortDisk = await checkpointsOnDisk(dataDir, short.modelId);
  assert.ok(Date.parse(shortDisk.epochs[0].doc.createdAt) >= restartAt, 'the queued job trained after the restart');
  assert.equal(shortEnd.attempts, 1);

  const stop2 = await svc2.stop('SIGTERM');
  assert.equal(stop2.code, 0);
}));
