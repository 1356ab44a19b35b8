// Fault: jobs that end without their processor running its catch. A job whose workers are SIGKILLed until
// it stalls out, and a job whose training child is SIGKILLed (as the OOM killer would) on its last
// attempt: the queue fails both, and GET /v1/models/:id says failed with the queue's reason, because a
// model's status is read from the queue and nowhere else. The training child's own log lines reach the
// worker's output with the job id on each.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  faultFixture,
  http,
  isAlive,
  isFinished,
  sleep,
  smallJob,
  startReady,
  submitJob,
  waitForJob,
  withServiceOutput,
  type ServiceProcess,
} from './helpers/service-process.js';

/** One attempt, and so (maxStalledCount = JOB_ATTEMPTS) one stall allowed; short locks: a dead worker's job stalls fast. */
const ENV = { WORKER_CONCURRENCY: '1', JOB_ATTEMPTS: '1', WORKER_LOCK_DURATION_MS: '1000', WORKER_STALLED_INTERVAL_MS: '500' };

const fixture = faultFixture();

async function modelStatus(api: ServiceProcess, modelId: string): Promise<{ status: string; error?: string }> {
  return (await http(api, 'GET', `/v1/models/${modelId}`)).body;
}

test('a job stalled out after its workers were SIGKILLed: the model says failed, with the queue\'s reason', { timeout: 120_000 }, withServiceOutput(async () => {
  const { redis, dataDir } = await fixture.start();
  const common = { redisUrl: redis.url, dataDir, env: ENV };
  const [api, ...workers] = await Promise.all([
    startReady({ ...common, role: 'api', name: 'api' }),
    ...[1, 2, 3].map((k) => startReady({ ...common, role: 'worker', name: `worker-${k}` })),
  ]);
  const { jobId, modelId } = await submitJob(api, smallJob(1000, 61, { training: { batchSize: 8 } }));

  // Whichever worker takes the job is killed while it trains it (the one with a training child); the
  // second stall is one too many.
  const alive = new Set(workers);
  for (let k = 1; k <= 2; k++) {
    const running = await waitForJob(api, jobId, (s) => (s.status === 'running' && s.attempts >= k) || isFinished(s), 30_000, 50);
    assert.equal(running.status, 'running', `attempt ${k}: ${running.status} ${running.error ?? ''}`);
    assert.equal((await modelStatus(api, modelId)).status, 'running');
    let holder: ServiceProcess | undefined;
    for (const w of alive) if ((await w.descendants()).length > 0) holder = w;
    assert.ok(holder, 'the worker that trains the job has a training child');
    alive.delete(holder);
    const { children } = await holder.stop('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (children.some(isAlive) && Date.now() < deadline) await sleep(100);
  }
  // Nobody ran the processor's catch: the last worker's stalled-jobs check fails the job.
  const [judge] = [...alive];
  const failed = await waitForJob(api, jobId, isFinished, 30_000, 100);
  assert.equal(failed.status, 'failed');
  assert.match(failed.error ?? '', /stalled/i);
  const model = await modelStatus(api, modelId);
  assert.equal(model.status, 'failed');
  assert.equal(model.error, failed.error);
  const list = (await http(api, 'GET', '/v1/models')).body.models.find((m: { modelId: string }) => m.modelId === modelId);
  assert.equal(list.status, 'failed');
  await Promise.all([judge.stop('SIGTERM'), api.stop('SIGTERM')]);
}));

test('a training child SIGKILLed on its last attempt: the model says failed, and the child logged with the job id', { timeout: 120_000 }, withServiceOutput(async () => {
  const { redis, dataDir } = await fixture.start();
  const common = { redisUrl: redis.url, dataDir, env: ENV };
  const [api, worker] = await Promise.all([
    startReady({ ...common, role: 'api', name: 'api-2' }),
    startReady({ ...common, role: 'worker', name: 'worker-oom' }),
  ]);
  const { jobId, modelId } = await submitJob(api, smallJob(1000, 62, { training: { batchSize: 8 } }));
  await waitForJob(api, jobId, (s) => s.progress.lastSavedEpoch >= 1 || isFinished(s), 30_000, 50);
  const children = await worker.descendants();
  assert.ok(children.length >= 1, 'the worker trains in a sandboxed child');
  for (const pid of children) process.kill(pid, 'SIGKILL');

  const failed = await waitForJob(api, jobId, isFinished, 30_000, 100);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.attempts, 1);
  assert.ok(failed.error, 'the queue has a reason');
  const model = await modelStatus(api, modelId);
  assert.equal(model.status, 'failed');
  assert.equal(model.error, failed.error);
  // A model whose job failed still serves the checkpoints it saved.
  assert.equal((await http(api, 'POST', `/v1/models/${modelId}/predict`, { x: [0.5, 0.5] })).status, 200);

  // The child's pino lines, piped into the worker's output, each carry the job id.
  const childLines = worker.logs().filter((l) => l.component === 'training-child');
  assert.ok(childLines.length > 0, 'the training child logged');
  assert.ok(childLines.filter((l) => l.msg !== undefined && l.jobId !== undefined).every((l) => l.jobId === jobId));
  assert.ok(childLines.some((l) => l.jobId === jobId && l.msg === 'training starts'), JSON.stringify(childLines.slice(0, 3)));
  await Promise.all([worker.stop('SIGTERM'), api.stop('SIGTERM')]);
}));
