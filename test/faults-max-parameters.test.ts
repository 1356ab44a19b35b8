// A model at the size the default limits allow (MAX_PARAMETERS, 20 M weights; here 19.7 M) goes through
// everything a small one does, in real processes: it trains a few batches an epoch, checkpoints (each
// epoch's directory at most 1.1 x the raw float32 of what it holds), resumes after its worker is SIGKILLed,
// completes, predicts, and serves its checkpoint document, streamed, values inline.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { parameterCount, resolveSpec } from '../src/model/spec.js';
import {
  checkpointsOnDisk,
  faultFixture,
  isAlive,
  isFinished,
  range1,
  sleep,
  startReady,
  submitJob,
  waitForJob,
  withServiceOutput,
  http as request,
} from './helpers/service-process.js';

const HIDDEN = [4096, 4096, 700];
const EPOCHS = 2;
const STALL_ENV = { WORKER_CONCURRENCY: '1', WORKER_LOCK_DURATION_MS: '4000', WORKER_STALLED_INTERVAL_MS: '1000' };

const fixture = faultFixture();

async function dirBytes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of await fs.readdir(dir)) out[name] = (await fs.stat(path.join(dir, name))).size;
  return out;
}

/** The response's size, first bytes and last bytes, read as a stream (the document is never held whole). */
function streamedBody(url: string): Promise<{ status: number; bytes: number; head: string; tail: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let bytes = 0;
      let head = '';
      let tail = '';
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (head.length < 200) head += chunk.toString('utf8', 0, Math.min(chunk.length, 200));
        tail = (tail + chunk.toString('utf8', Math.max(0, chunk.length - 200))).slice(-200);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, head, tail }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

test('a model at MAX_PARAMETERS trains, checkpoints compactly, resumes after a SIGKILL, predicts and is served', { timeout: 240_000 }, withServiceOutput(async (t) => {
  const { redis, dataDir } = await fixture.start();
  const common = { redisUrl: redis.url, dataDir, env: STALL_ENV };
  const [api, worker1] = await Promise.all([
    startReady({ ...common, role: 'api', name: 'api' }),
    startReady({ ...common, role: 'worker', name: 'worker-1' }),
  ]);
  const spec = resolveSpec({ hidden: HIDDEN, task: 'binary' }, { inputDim: 2, outputDim: 1 }, 1);
  const params = parameterCount(spec);
  assert.ok(params > 19_000_000 && params <= 20_000_000, `${params} parameters`);
  // 64 rows in batches of 32: two batches an epoch.
  const features = Array.from({ length: 64 }, (_, i) => [i % 2, (i % 5) / 4]);
  const { jobId, modelId } = await submitJob(api, {
    data: { features, labels: features.map(([a]) => a) },
    model: { hidden: HIDDEN, task: 'binary' },
    training: { epochs: EPOCHS, batchSize: 32, validationSplit: 0, seed: 1 },
  });

  // Killed after its first checkpoint, while it trains the second epoch.
  await waitForJob(api, jobId, (s) => s.progress.lastSavedEpoch >= 1 || isFinished(s), 120_000, 200);
  const kill = await worker1.stop('SIGKILL');
  const deadline = Date.now() + 10_000;
  while (kill.children.some(isAlive) && Date.now() < deadline) await sleep(100);
  const worker2 = await startReady({ ...common, role: 'worker', name: 'worker-2' });
  const done = await waitForJob(api, jobId, isFinished, 150_000, 250);
  assert.equal(done.status, 'completed', `${done.status}: ${done.error ?? ''}`);
  assert.ok(done.attempts >= 2, 'resumed by the second worker');
  assert.deepEqual(done.history.map((h) => h.epoch), range1(EPOCHS));
  const disk = await checkpointsOnDisk(dataDir, modelId);
  assert.deepEqual(disk.epochs.map((c) => c.epoch), range1(EPOCHS));

  // On disk: weights once, in float32; the optimizer's two Adam moments in the newest checkpoint only.
  const bnStats = 2 * HIDDEN.reduce((a, b) => a + b, 0);
  const rawWeights = 4 * params;
  const rawMoments = 4 * 2 * (params - bnStats);
  for (const { epoch, dir } of disk.epochs) {
    const files = await dirBytes(dir);
    const total = Object.values(files).reduce((a, b) => a + b, 0);
    const raw = epoch === EPOCHS ? rawWeights + rawMoments : rawWeights;
    assert.equal(files['weights.bin'], rawWeights, `epoch ${epoch}: weights.bin`);
    assert.equal('training-state.bin' in files, epoch === EPOCHS, `epoch ${epoch}: optimizer state only in the newest`);
    assert.ok(total <= 1.1 * raw, `epoch ${epoch}: ${total} bytes on disk for ${raw} raw bytes`);
    t.diagnostic(`epoch ${epoch}: ${(total / 1e6).toFixed(1)} MB on disk, ${(total / raw).toFixed(4)} x the raw float32`);
  }

  const predicted = await request(api, 'POST', `/v1/models/${modelId}/predict`, { instances: [[0, 0], [1, 1]] }, 120_000);
  assert.equal(predicted.status, 200, JSON.stringify(predicted.body).slice(0, 300));
  assert.equal(predicted.body.predictions.length, 2);
  assert.ok(predicted.body.predictions.flat().every((y: number) => y >= 0 && y <= 1));

  const bn = await request(api, 'GET', `/v1/models/${modelId}/checkpoints/latest?include=bn`, undefined, 60_000);
  assert.equal(bn.status, 200);
  assert.deepEqual(bn.body.layers.map((l: { gamma: number[] }) => l.gamma.length), HIDDEN);
  // The whole document, values inline: hundreds of megabytes, streamed.
  const doc = await streamedBody(`${api.baseUrl}/v1/models/${modelId}/checkpoints/${EPOCHS}`);
  assert.equal(doc.status, 200);
  assert.ok(doc.bytes > 10 * params, `${doc.bytes} bytes for ${params} values`);
  assert.match(doc.head, new RegExp(`^\\{"format":"bn-checkpoint/v1","modelId":"${modelId}","epoch":${EPOCHS},`));
  assert.match(doc.tail, /"name":"activation_out","fn":"sigmoid"\}\]\}$/);
  await Promise.all([worker2.stop('SIGTERM'), api.stop('SIGTERM')]);
}));
