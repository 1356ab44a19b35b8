// Fault: Redis goes away under a running service (ROLE=all against an external REDIS_URL). Job submission
// answers 503 quickly with a message naming Redis, /readyz says not ready, predictions of stored models go
// on unchanged; when Redis is back on the same port the service recovers by itself (no restart).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, test } from 'node:test';
import { startEmbeddedRedis, type EmbeddedRedis } from '../src/redis/embedded-redis.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';
import {
  http,
  isFinished,
  range1,
  sleep,
  smallJob,
  startReady,
  stopAll,
  submitJob,
  tempDataDir,
  waitForJob,
  withServiceOutput,
} from './helpers/service-process.js';

let redis: TestRedis | undefined;
let redis2: EmbeddedRedis | undefined;
let dataDir: string | undefined;
after(async () => {
  await stopAll();
  await redis2?.stop();
  await redis?.cleanup();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

test('Redis down: 503 within 1 s naming Redis, /readyz 503, predictions unchanged; Redis back: recovers without a restart', { timeout: 90_000 }, withServiceOutput(async (t) => {
  redis = await startTestRedis({ persistent: true });
  dataDir = await tempDataDir();
  const svc = await startReady({ role: 'all', name: 'all', redisUrl: redis.url, dataDir, env: { WORKER_CONCURRENCY: '1' } });

  const first = await submitJob(svc, smallJob(6, 31));
  const done = await waitForJob(svc, first.jobId, isFinished, 30_000);
  assert.equal(done.status, 'completed', `${done.status} ${done.error ?? ''}`);
  const x = [0.3, -1.2];
  const before = await http(svc, 'POST', `/v1/models/${first.modelId}/predict`, { x });
  assert.equal(before.status, 200, JSON.stringify(before.body));
  assert.equal(before.body.y.length, 1);

  // Redis goes away (graceful stop: the append-only file is complete).
  await redis.stop();

  const submit = await http(svc, 'POST', '/v1/training-jobs', smallJob(3, 32));
  t.diagnostic(`POST /v1/training-jobs with Redis down: ${submit.status} in ${submit.elapsedMs.toFixed(0)} ms`);
  assert.equal(submit.status, 503, JSON.stringify(submit.body));
  assert.ok(submit.elapsedMs < 1000, `the 503 took ${submit.elapsedMs.toFixed(0)} ms`);
  assert.match(submit.body.message, /redis/i, 'the message says Redis is the problem');

  // Readiness follows at once; liveness does not (restarting the process would not help).
  const ready = await http(svc, 'GET', '/readyz');
  assert.equal(ready.status, 503, JSON.stringify(ready.body));
  assert.equal(ready.body.checks.redis.ok, false);
  assert.equal(ready.body.checks.store.ok, true);
  assert.ok(ready.elapsedMs < 2500, `/readyz took ${ready.elapsedMs.toFixed(0)} ms`);
  assert.equal((await http(svc, 'GET', '/healthz')).status, 200);

  // Reading a job's status needs Redis too: a quick 503, not a hang.
  const status = await http(svc, 'GET', `/v1/training-jobs/${first.jobId}`);
  assert.equal(status.status, 503);
  assert.ok(status.elapsedMs < 1000, `status 503 took ${status.elapsedMs.toFixed(0)} ms`);

  // Predictions and stored models never touch Redis: unchanged, bit for bit.
  const during = await http(svc, 'POST', `/v1/models/${first.modelId}/predict`, { x });
  assert.equal(during.status, 200, JSON.stringify(during.body));
  assert.deepEqual(during.body.y, before.body.y);
  const model = await http(svc, 'GET', `/v1/models/${first.modelId}`);
  assert.equal(model.status, 200);
  assert.deepEqual(model.body.checkpoints.map((c: { epoch: number }) => c.epoch), range1(6));

  // Still down a few seconds later: still fast 503s (no request piles up behind the reconnects).
  await sleep(1500);
  const again = await http(svc, 'POST', '/v1/training-jobs', smallJob(3, 33));
  assert.equal(again.status, 503);
  assert.ok(again.elapsedMs < 1000, `the second 503 took ${again.elapsedMs.toFixed(0)} ms`);

  // Redis comes back on the same port, from its own append-only file.
  redis2 = await startEmbeddedRedis({ dir: redis.dir, port: redis.port, persistent: true });
  const backAt = Date.now();
  let readyAgain = await http(svc, 'GET', '/readyz');
  while (readyAgain.status !== 200 && Date.now() - backAt < 15_000) {
    await sleep(200);
    readyAgain = await http(svc, 'GET', '/readyz');
  }
  t.diagnostic(`/readyz 200 again ${Date.now() - backAt} ms after Redis returned`);
  assert.equal(readyAgain.status, 200, JSON.stringify(readyAgain.body));

  // The first job's status survived (append-only file), and new work flows through the same worker.
  const old = await http(svc, 'GET', `/v1/training-jobs/${first.jobId}`);
  assert.equal(old.status, 200);
  assert.equal(old.body.status, 'completed');
  assert.deepEqual(old.body.history.map((h: { epoch: number }) => h.epoch), range1(6));
  const second = await submitJob(svc, smallJob(4, 34));
  const end = await waitForJob(svc, second.jobId, isFinished, 30_000);
  assert.equal(end.status, 'completed', `${end.status} ${end.error ?? ''}\n${svc.output().slice(-3000)}`);
  assert.equal(end.progress.epoch, 4);
  assert.equal(end.attempts, 1);
  const after2 = await http(svc, 'POST', `/v1/models/${second.modelId}/predict`, { x });
  assert.equal(after2.status, 200);

  const stop = await svc.stop('SIGTERM');
  assert.equal(stop.code, 0);
}));
