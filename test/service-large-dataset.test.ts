// A 70,000 x 784 image set (the size of MNIST and Fashion-MNIST), generated here as gzipped uint8 IDX
// files, uploads to a REAL service process, is stored in binary, trains and evaluates, while the API
// process's memory grows by far less than the dataset's binary size: the upload is streamed to disk, and
// submission and evaluation never hold the rows whole. (Training holds them, in the sandboxed child.)
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createPrng } from '../src/util/prng.js';
import { faultFixture, http, isFinished, startReady, submitJob, waitForJob, withServiceOutput } from './helpers/service-process.js';

const fixture = faultFixture();
const TRAIN = 60_000;
const TEST = 10_000;
const PIXELS = 784;
/** features + float32 labels of both parts, as stored */
const BINARY_BYTES = (TRAIN + TEST) * (PIXELS + 4);

function idx(shape: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = 0x08;
  header[3] = shape.length;
  shape.forEach((d, a) => header.writeUInt32BE(d, 4 + 4 * a));
  return Buffer.concat([header, data]);
}

/** Images in which class k lights a band of rows 2k..2k+7, with sparse noise: learnable, and compressible. */
function images(rows: number, seed: number): { x: Uint8Array; y: Uint8Array } {
  const p = createPrng(seed);
  const x = new Uint8Array(rows * PIXELS);
  const y = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const k = i % 10;
    y[i] = k;
    for (let r = 2 * k; r < 2 * k + 8; r++) x.fill(200, i * PIXELS + r * 28 + 6, i * PIXELS + r * 28 + 22);
    for (let n = 0; n < 8; n++) x[i * PIXELS + p.int(PIXELS)] = p.int(256);
  }
  return { x, y };
}

/** Resident set size of a process (bytes), from /proc. */
async function rss(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

test('a 70,000 x 784 upload streams to disk with bounded API memory, then trains and evaluates', { timeout: 180_000 }, withServiceOutput(async () => {
  const { redis, dataDir } = await fixture.start();
  const svc = await startReady({ role: 'all', name: 'all', redisUrl: redis.url, dataDir, env: { WORKER_CONCURRENCY: '1', TFJS_BACKEND: 'wasm' } });

  const train = images(TRAIN, 1);
  const test = images(TEST, 2);
  const form = new FormData();
  form.append('name', 'synthetic 70k');
  form.append('scale', String(1 / 255));
  const files: [string, string, Buffer][] = [
    ['features', 'train-images-idx3-ubyte.gz', gzipSync(idx([TRAIN, 28, 28], train.x), { level: 1 })],
    ['labels', 'train-labels-idx1-ubyte.gz', gzipSync(idx([TRAIN], train.y), { level: 1 })],
    ['testFeatures', 't10k-images-idx3-ubyte.gz', gzipSync(idx([TEST, 28, 28], test.x), { level: 1 })],
    ['testLabels', 't10k-labels-idx1-ubyte.gz', gzipSync(idx([TEST], test.y), { level: 1 })],
  ];
  for (const [field, name, bytes] of files) form.append(field, new Blob([new Uint8Array(bytes)]), name);
  const sent = files.reduce((n, f) => n + f[2].length, 0);
  assert.ok(sent < 50 * 1024 * 1024, `the gzipped files (${sent} bytes) fit the default BODY_LIMIT_BYTES`);

  // The API process's memory while the upload streams in: sampled, peak over the idle baseline.
  const baseline = await rss(svc.pid);
  let peak = baseline;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rss(svc.pid).catch(() => peak));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const res = await fetch(`${svc.baseUrl}/v1/datasets`, { method: 'POST', body: form, signal: AbortSignal.timeout(60_000) });
  sampling = false;
  await sampler;
  const info = await res.json();
  assert.equal(res.status, 201, JSON.stringify(info).slice(0, 500));
  const growth = peak - baseline;
  console.log(`upload of ${sent} gzipped bytes (${BINARY_BYTES} stored): API RSS ${Math.round(baseline / 2 ** 20)} MiB -> peak ${Math.round(peak / 2 ** 20)} MiB (+${(growth / BINARY_BYTES).toFixed(2)} x the binary size)`);
  // Generous: the streaming buffers are small, but V8 frees the gunzipped chunks only at its next
  // collection, which it may put off until some tens of MiB of them are dead. Holding the rows as float32
  // would take over 4 x, as JSON numbers about 20 x.
  assert.ok(growth < 1.5 * BINARY_BYTES, `API RSS grew by ${growth} bytes, the dataset is ${BINARY_BYTES} bytes as stored`);

  assert.deepEqual([info.rows, info.test.rows, info.features, info.classes], [TRAIN, TEST, PIXELS, 10]);
  assert.deepEqual(info.storage, { features: 'uint8', scale: 1 / 255 });
  const dir = path.join(dataDir, 'datasets', info.id);
  const sizes = Object.fromEntries(await Promise.all((await fs.readdir(dir)).map(async (f) => [f, (await fs.stat(path.join(dir, f))).size])));
  assert.deepEqual(sizes, { 'train-x.u8': TRAIN * PIXELS, 'train-y.f32': TRAIN * 4, 'test-x.u8': TEST * PIXELS, 'test-y.f32': TEST * 4 });

  // One epoch of a tiny network on the training part, then its test metrics with the frozen statistics.
  const before = await rss(svc.pid);
  const { jobId, modelId } = await submitJob(svc, {
    datasetId: info.id,
    model: { hidden: [16], task: 'multiclass' },
    training: { epochs: 1, batchSize: 2048, learningRate: 0.01, validationSplit: 0.1, seed: 3 },
  });
  const done = await waitForJob(svc, jobId, isFinished, 120_000, 250);
  assert.equal(done.status, 'completed', done.error);
  const evaluated = await http(svc, 'POST', `/v1/models/${modelId}/evaluate`, { datasetId: info.id }, 60_000);
  assert.equal(evaluated.status, 200, JSON.stringify(evaluated.body));
  assert.equal(evaluated.body.rows, TEST);
  assert.equal(evaluated.body.split, 'test');
  assert.ok(evaluated.body.accuracy > 0.9, `test accuracy ${evaluated.body.accuracy} after one epoch on bands that tell the classes apart`);
  const after = await rss(svc.pid);
  assert.ok(after - before < 1.5 * BINARY_BYTES, `submission and evaluation grew the API's RSS by ${after - before} bytes`);
}));
