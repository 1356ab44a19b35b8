// Fault: a training job diverges (the loss overflows to Infinity/NaN). It must end `failed` at once with
// a message saying it diverged, never be retried (attempts 1), and the checkpoints of the finite epochs
// before it stay readable and usable for prediction.
//
// Settings found by search, deterministic for the seed on the wasm backend (builtin:blobs, regression on
// its 0/1 labels, no BN, plain SGD, too large a learning rate):
//   lr 1.5, seed 1: finite epochs 1 to 5, then the training loss overflows in epoch 6.
//   lr 3.2, seed 1: epoch 1's training loss is finite (6e34) but its validation loss overflows to Infinity.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  faultFixture,
  checkpointsOnDisk,
  http,
  isFinished,
  range1,
  startReady,
  submitJob,
  waitForJob,
  type JobStatusBody,
  type ServiceProcess,
  withServiceOutput,
} from './helpers/service-process.js';

const fixture = faultFixture();
let svc: ServiceProcess | undefined;

function divergingJob(learningRate: number, seed: number) {
  return {
    datasetId: 'builtin:blobs',
    model: { hidden: [32], task: 'regression', batchNorm: { enabled: false } },
    training: { epochs: 10, batchSize: 32, optimizer: 'sgd', learningRate, seed },
  };
}

/** Finished, or started a second time (a retry: the failure we assert against, without waiting out the backoff). */
const failedOrRetried = (s: JobStatusBody) => isFinished(s) || s.attempts >= 2;

/** The reasons the worker logged for this job's failed attempts (for the assertion messages). */
function attemptFailures(api: ServiceProcess, jobId: string): string {
  const lines = api.logs().filter((l) => l.jobId === jobId && typeof l.reason === 'string');
  return lines.map((l) => `${l.msg}: ${String(l.reason)}`).join(' | ') || 'nothing logged';
}

async function service(): Promise<ServiceProcess> {
  if (!svc) {
    const { redis, dataDir } = await fixture.start();
    svc = await startReady({
      role: 'all',
      name: 'all',
      redisUrl: redis.url,
      dataDir,
      // wasm pinned: the diverging settings above were found on it (a native backend may round differently).
      env: { WORKER_CONCURRENCY: '2', TFJS_BACKEND: 'wasm', JOB_ATTEMPTS: '5' },
    });
  }
  return svc;
}

test('a diverging job fails at once with "diverged", no retry, and its last finite checkpoint stays readable', { timeout: 60_000 }, withServiceOutput(async (t) => {
  const api = await service();
  const { jobId, modelId } = await submitJob(api, divergingJob(1.5, 1));
  const end = await waitForJob(api, jobId, failedOrRetried, 30_000, 100);
  const why = attemptFailures(api, jobId);
  assert.equal(end.status, 'failed', `status ${end.status} (attempts ${end.attempts}): ${end.error ?? ''}; worker: ${why}`);
  assert.equal(end.attempts, 1, `a diverged job is not retried; worker: ${why}`);
  assert.match(end.error ?? '', /diverged/);
  // Expected on wasm: epochs 1 to 5 finite, epoch 6 overflows. Asserted through k, so that another
  // backend's rounding may move the epoch, but never below one finite checkpoint.
  const k = end.progress.lastSavedEpoch;
  t.diagnostic(`diverged after ${k} finite epoch(s): ${end.error}`);
  assert.ok(k >= 1, 'at least one finite epoch was saved before the divergence');
  assert.ok(k < 10, 'it diverged before the last epoch');
  assert.match(end.error ?? '', new RegExp(`in epoch ${k + 1}\\b`), 'the message names the epoch that diverged');
  assert.match(end.error ?? '', new RegExp(`last finite checkpoint is epoch ${k}\\b`));
  assert.deepEqual(end.history.map((h) => h.epoch), range1(k));
  for (const h of end.history) assert.ok(Number.isFinite(h.loss));

  // Still failed a little later: no retry was scheduled behind our back.
  await new Promise((r) => setTimeout(r, 2500));
  const later = (await http(api, 'GET', `/v1/training-jobs/${jobId}`)).body as JobStatusBody;
  assert.equal(later.status, 'failed');
  assert.equal(later.attempts, 1);

  // The model: failed with the same message, checkpoints 1 and 2 complete, readable, finite.
  const model = await http(api, 'GET', `/v1/models/${modelId}`);
  assert.equal(model.status, 200);
  assert.equal(model.body.status, 'failed');
  assert.match(model.body.error, /diverged/);
  assert.deepEqual(model.body.checkpoints.map((c: { epoch: number }) => c.epoch), range1(k));
  assert.equal(model.body.latestEpoch, k);
  const disk = await checkpointsOnDisk((await fixture.start()).dataDir, modelId);
  assert.deepEqual(disk.epochs.map((c) => c.epoch), range1(k));
  assert.deepEqual(disk.other, [], 'no half-written checkpoint of the diverged epoch');
  const ckpt = await http(api, 'GET', `/v1/models/${modelId}/checkpoints/${k}`);
  assert.equal(ckpt.status, 200);
  assert.equal(ckpt.body.epoch, k);
  const numbers = JSON.stringify(ckpt.body.layers).match(/-?[\d.]+(e[+-]?\d+)?/g) ?? [];
  assert.ok(numbers.length > 0 && numbers.every((n) => Number.isFinite(Number(n))));
  const predict = await http(api, 'POST', `/v1/models/${modelId}/predict`, { x: [0.5, -0.5] });
  assert.equal(predict.status, 200, JSON.stringify(predict.body));
  assert.equal(predict.body.checkpoint, k, 'predicted with the last finite checkpoint');
  assert.ok(predict.body.y.every((v: number) => Number.isFinite(v)), `prediction ${JSON.stringify(predict.body.y)}`);
}));

test('a job whose validation loss overflows in its first epoch also fails as diverged, without retries', { timeout: 60_000 }, withServiceOutput(async () => {
  const api = await service();
  const { jobId, modelId } = await submitJob(api, divergingJob(3.2, 1));
  const end = await waitForJob(api, jobId, failedOrRetried, 30_000, 100);
  const why = attemptFailures(api, jobId);
  assert.equal(end.status, 'failed', `status ${end.status} (attempts ${end.attempts}): ${end.error ?? ''}; worker: ${why}`);
  assert.equal(end.attempts, 1, `a diverged job is not retried (error: ${end.error ?? ''}; worker: ${why})`);
  assert.match(end.error ?? '', /diverged/);
  // Expected on wasm: nothing finite to keep (epoch 1's validation loss is already Infinity).
  const k = end.progress.lastSavedEpoch;
  const model = await http(api, 'GET', `/v1/models/${modelId}`);
  assert.equal(model.body.status, 'failed');
  assert.deepEqual(model.body.checkpoints.map((c: { epoch: number }) => c.epoch), range1(k), 'only finite epochs are kept');
  if (k > 0) return;
  assert.equal(model.body.latestEpoch, null);
  // Predicting with a model that has no checkpoint is a clear client error, not a 500.
  const predict = await http(api, 'POST', `/v1/models/${modelId}/predict`, { x: [0.5, -0.5] });
  assert.ok(predict.status >= 400 && predict.status < 500, `predict answered ${predict.status}`);
}));
