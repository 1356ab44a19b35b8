// The whole path through HTTP with the real worker: upload, submit, follow over SSE, read checkpoints and
// BN parameters, predict (one point, a batch, by hand from the checkpoint), cancel, idempotency.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { withTimeout } from '../src/util/with-timeout.js';
import type { CheckpointDocument } from '../src/schemas/checkpoint.js';
import { createPrng } from '../src/util/prng.js';
import { createDirectEngine, loadOnnxRuntime } from '../src/inference/index.js';
import { makeCheckpoint, randomRows } from './helpers/make-checkpoint.js';
import { putTrainedModel, readSse, startEnv, tinyModel, waitFor, type TestEnv } from './api-helpers.js';
import { fromDocument } from '../src/checkpoint/document.js';

let env: TestEnv;
let baseUrl: string;

before(async () => {
  env = await startEnv({ worker: true });
  await env.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(env.app.server.address() as AddressInfo).port}`;
});
after(async () => {
  await env?.close();
});

/** The forward pass written out from the checkpoint document, in plain loops. */
function handForward(doc: CheckpointDocument, x: number[]) {
  let a = x.slice();
  const bn: { name: string; h: number[]; hhat: number[]; r: number[] }[] = [];
  for (const layer of doc.layers) {
    if (layer.type === 'dense') {
      const units = layer.kernel[0].length;
      const out = new Array<number>(units).fill(0);
      for (let j = 0; j < units; j++) {
        let s = layer.bias ? layer.bias[j] : 0;
        for (let i = 0; i < a.length; i++) s += a[i] * layer.kernel[i][j];
        out[j] = s;
      }
      a = out;
    } else if (layer.type === 'batchNorm') {
      const h = a;
      const hhat = h.map((v, j) => (v - layer.movingMean[j]) / Math.sqrt(layer.movingVariance[j] + layer.epsilon));
      const r = hhat.map((v, j) => layer.gamma[j] * v + layer.beta[j]);
      bn.push({ name: layer.name, h, hhat, r });
      a = r;
    } else {
      const fn = layer.fn;
      if (fn === 'relu') a = a.map((v) => Math.max(0, v));
      else if (fn === 'sigmoid') a = a.map((v) => 1 / (1 + Math.exp(-v)));
      else if (fn === 'tanh') a = a.map((v) => Math.tanh(v));
      else if (fn === 'softmax') {
        const m = Math.max(...a);
        const e = a.map((v) => Math.exp(v - m));
        const s = e.reduce((p, q) => p + q, 0);
        a = e.map((v) => v / s);
      }
    }
  }
  return { y: a, bn };
}

function assertClose(actual: number[], expected: number[], tol: number, what: string) {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

function twoBlobs(n: number) {
  const rng = createPrng(42);
  const features: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = i % 2;
    features.push([y * 2 + 0.5 * rng.normal(), -y + 0.5 * rng.normal(), 0.1 * rng.normal()]);
    labels.push(y);
  }
  return { features, labels };
}

describe('full path', () => {
  let jobId: string;
  let modelId: string;
  let rows: number[][];

  test('upload, submit, follow over SSE to completion', async () => {
    const data = twoBlobs(400);
    rows = data.features;
    const up = await env.app.inject({ method: 'POST', url: '/v1/datasets', payload: { name: 'blobs3', ...data } });
    assert.equal(up.statusCode, 201, up.body);
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/training-jobs',
      payload: { datasetId: up.json().id, ...tinyModel },
    });
    assert.equal(res.statusCode, 202, res.body);
    ({ jobId, modelId } = res.json());
    assert.match(jobId, /^job_[A-Za-z0-9_-]+$/);
    assert.match(modelId, /^mdl_[A-Za-z0-9_-]+$/);
    assert.equal(res.json().status, 'queued');
    assert.equal(res.headers.location, `/v1/training-jobs/${jobId}`);

    const stream = await readSse(baseUrl, `/v1/training-jobs/${jobId}/events`);
    assert.equal(stream.status, 200);
    assert.match(stream.contentType, /text\/event-stream/);
    const names = stream.events.map((e) => e.event);
    assert.equal(names[0], 'status');
    assert.equal(names.at(-1), 'completed', names.join(','));
    assert.ok(names.slice(1, -1).every((n) => n === 'progress' || n === 'epoch'), names.join(','));
    const last = stream.events.at(-1)?.data as { status: string; history: { epoch: number }[]; jobId: string };
    assert.equal(last.status, 'completed');
    assert.equal(last.jobId, jobId);
    assert.deepEqual(last.history.map((h) => h.epoch), [1, 2, 3]);
    // The first event has the history so far, every `epoch` event one epoch more, and no progress event
    // carries the history: nothing sent grows with the number of epochs.
    const first = stream.events[0].data as { history: { epoch: number }[] };
    const epochEvents = stream.events.filter((e) => e.event === 'epoch').map((e) => (e.data as { epoch: number }).epoch);
    assert.deepEqual([...first.history.map((h) => h.epoch), ...epochEvents], [1, 2, 3]);
    for (const e of stream.events.filter((x) => x.event === 'progress')) assert.equal((e.data as { history?: unknown }).history, undefined);

    const status = await env.app.inject({ url: `/v1/training-jobs/${jobId}` });
    assert.equal(status.statusCode, 200);
    assert.equal(status.json().status, 'completed');
    assert.equal(status.json().progress.epoch, 3);
  });

  test('a client connecting after the end gets the state and the final event at once', async () => {
    const stream = await readSse(baseUrl, `/v1/training-jobs/${jobId}/events`, {}, 5000);
    assert.deepEqual(stream.events.map((e) => e.event), ['status', 'completed']);
  });

  test('model and checkpoints: one per epoch; BN parameters', async () => {
    const model = await env.app.inject({ url: `/v1/models/${modelId}` });
    assert.equal(model.statusCode, 200);
    const m = model.json();
    assert.equal(m.jobId, jobId);
    assert.equal(m.inputDim, 3);
    assert.equal(m.outputDim, 1);
    assert.deepEqual(m.spec.hidden, [8, 4]);
    assert.equal(m.training.epochs, 3);
    assert.deepEqual(m.checkpoints.map((c: { epoch: number }) => c.epoch), [1, 2, 3]);
    assert.equal(m.latestEpoch, 3);

    const list = await env.app.inject({ url: '/v1/models' });
    assert.ok(list.json().models.some((x: { modelId: string }) => x.modelId === modelId));

    const bn = await env.app.inject({ url: `/v1/models/${modelId}/checkpoints/latest?include=bn` });
    assert.equal(bn.statusCode, 200);
    const doc = bn.json() as CheckpointDocument;
    assert.equal(doc.epoch, 3);
    assert.equal(doc.layers.length, 2);
    for (const [i, layer] of doc.layers.entries()) {
      assert.equal(layer.type, 'batchNorm');
      if (layer.type !== 'batchNorm') continue;
      assert.equal(layer.gamma.length, [8, 4][i]);
      assert.equal(layer.momentum, 0.9);
      assert.ok(layer.movingVariance.every((v) => v > 0));
    }
    const first = await env.app.inject({ url: `/v1/models/${modelId}/checkpoints/1` });
    assert.equal(first.json().epoch, 1);
  });

  test('TF.js artifacts', async () => {
    const json = await env.app.inject({ url: `/v1/models/${modelId}/checkpoints/3/model.json` });
    assert.equal(json.statusCode, 200);
    assert.match(String(json.headers['content-type']), /application\/json/);
    const manifest = json.json().weightsManifest as { paths: string[]; weights: { shape: number[] }[] }[];
    assert.deepEqual(manifest[0].paths, ['weights.bin']);
    const bin = await env.app.inject({ url: `/v1/models/${modelId}/checkpoints/3/weights.bin` });
    assert.equal(bin.statusCode, 200);
    assert.match(String(bin.headers['content-type']), /application\/octet-stream/);
    const floats = manifest.flatMap((g) => g.weights).reduce((n, w) => n + w.shape.reduce((p, q) => p * q, 1), 0);
    assert.equal(bin.rawPayload.length, floats * 4);
  });

  test('the ONNX download runs in onnxruntime and predicts what the predict route answers', async () => {
    const res = await env.app.inject({ url: `/v1/models/${modelId}/checkpoints/latest/model.onnx` });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /application\/octet-stream/);
    assert.equal(res.headers['content-disposition'], `attachment; filename="${modelId}-epoch-3.onnx"`);
    const ort = await loadOnnxRuntime();
    if (ort instanceof Error) throw ort;
    const session = await ort.InferenceSession.create(new Uint8Array(res.rawPayload));
    const x = rows[4];
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), [1, 3]) });
    const predicted = await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict`, payload: { x } });
    const [y] = predicted.json().y as number[];
    assert.ok(Math.abs((out.y.data as Float32Array)[0] - y) <= 1e-5, `${(out.y.data as Float32Array)[0]} vs ${y}`);
    const missing = await env.app.inject({ url: `/v1/models/${modelId}/checkpoints/9/model.onnx` });
    assert.equal(missing.statusCode, 404);
  });

  test('predict one point = its row in a batch = the hand formula from the checkpoint', async () => {
    const doc = (await env.app.inject({ url: `/v1/models/${modelId}/checkpoints/3` })).json() as CheckpointDocument;
    const points = rows.slice(0, 5);
    const one = await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict`, payload: { x: points[2] } });
    assert.equal(one.statusCode, 200, one.body);
    const o = one.json();
    assert.equal(o.checkpoint, 3);
    assert.equal(o.y.length, 1);
    assert.equal(o.class, o.y[0] >= 0.5 ? 1 : 0);

    const batch = await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict?checkpoint=3`, payload: { instances: points } });
    assert.equal(batch.statusCode, 200, batch.body);
    assert.equal(batch.json().checkpoint, 3);
    assert.equal(batch.json().predictions.length, 5);
    assertClose(batch.json().predictions[2], o.y, 1e-12, 'batch row vs one point');

    for (const [i, x] of points.entries()) {
      assertClose(batch.json().predictions[i], handForward(doc, x).y, 1e-9, `hand formula row ${i}`);
    }

    const explained = await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict?explain=true`, payload: { x: points[2] } });
    assert.equal(explained.statusCode, 200, explained.body);
    const ex = explained.json().explanation;
    const hand = handForward(doc, points[2]);
    assert.equal(ex.batchNorm.length, 2);
    for (const [k, trace] of ex.batchNorm.entries()) {
      assertClose(trace.h, hand.bn[k].h, 1e-9, `h of ${trace.name}`);
      assertClose(trace.hhat, hand.bn[k].hhat, 1e-9, `hhat of ${trace.name}`);
      assertClose(trace.r, hand.bn[k].r, 1e-9, `r of ${trace.name}`);
    }
    assertClose(ex.y, hand.y, 1e-9, 'explained y');

    const older = await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict?checkpoint=1`, payload: { x: points[2] } });
    assert.equal(older.json().checkpoint, 1);
    const missing = await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict?checkpoint=9`, payload: { x: points[2] } });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().field, 'checkpoint');
  });

  test('feature count mismatch names x or instances[i]', async () => {
    const one = await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict`, payload: { x: [1, 2] } });
    assert.equal(one.statusCode, 400);
    assert.equal(one.json().field, 'x');
    assert.match(one.json().message, /inputDim=3/);
    const batch = await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict`, payload: { instances: [[1, 2, 3], [1, 2, 3, 4]] } });
    assert.equal(batch.statusCode, 400);
    assert.equal(batch.json().field, 'instances[1]');
  });

  test('an MNIST-size model is served by onnxruntime and answers what the float64 reference computes', async () => {
    const options = { inputDim: 784, hidden: [256, 128, 64], task: 'multiclass' as const, classes: 10, seed: 21 };
    await putTrainedModel(env.store, 'mdl_mnist_size', options);
    const x = randomRows(1, 784, 22)[0];
    const res = await env.app.inject({ method: 'POST', url: '/v1/models/mdl_mnist_size/predict', payload: { x } });
    assert.equal(res.statusCode, 200, res.body);
    const expected = await (await createDirectEngine().load(fromDocument(makeCheckpoint(options)))).predictOne(x);
    const y = res.json().y as number[];
    assert.equal(y.length, 10);
    for (let k = 0; k < 10; k++) assert.ok(Math.abs(y[k] - expected[k]) <= 1e-5, `y[${k}] ${y[k]} vs ${expected[k]}`);
    assert.equal(res.json().class, expected.indexOf(Math.max(...expected)));
  });

  test('metrics: job outcome, prediction latency, request durations', async () => {
    const text = await waitFor(async () => {
      const res = await env.app.inject({ url: '/metrics' });
      return /bn_training_jobs_finished_total\{outcome="completed"\} [1-9]/.test(res.body) ? res.body : null;
    }, 10_000, 'the completed-jobs counter');
    assert.match(text, /bn_prediction_duration_seconds_count\{kind="one",engine="folded"\} [1-9]/);
    assert.match(text, /bn_prediction_duration_seconds_count\{kind="batch",engine="folded"\} [1-9]/);
    assert.match(text, /bn_prediction_duration_seconds_count\{kind="one",engine="onnx"\} [1-9]/);
    assert.match(text, /http_request_duration_seconds_count\{route="\/v1\/models\/:modelId\/predict",method="POST",status_code="200"\}/);
    assert.match(text, /bn_queue_jobs\{state="completed"\} [1-9]/);
    assert.match(text, /bn_queue_up 1/);
    assert.match(text, /# TYPE bn_training_samples_per_second gauge\nbn_training_samples_per_second \d/);
  });
});

describe('idempotency and cancellation', () => {
  test('a repeated Idempotency-Key returns the first job and creates no model record', async () => {
    const payload = { datasetId: 'builtin:blobs', ...tinyModel, training: { ...tinyModel.training, epochs: 1 } };
    const headers = { 'idempotency-key': 'order-42' };
    const before = (await env.store.listModels()).length;
    const a = await env.app.inject({ method: 'POST', url: '/v1/training-jobs', headers, payload });
    const b = await env.app.inject({ method: 'POST', url: '/v1/training-jobs', headers, payload });
    assert.equal(a.statusCode, 202, a.body);
    assert.equal(b.statusCode, 202, b.body);
    assert.equal(b.json().jobId, a.json().jobId);
    assert.equal(b.json().modelId, a.json().modelId);
    assert.equal((await env.store.listModels()).length, before + 1);
    const other = await env.app.inject({ method: 'POST', url: '/v1/training-jobs', headers: { 'idempotency-key': 'order-43' }, payload });
    assert.notEqual(other.json().jobId, a.json().jobId);
    assert.equal((await env.store.listModels()).length, before + 2);
  });

  test('cancel a running job -> cancelled, stream ends with cancelled', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/training-jobs',
      payload: { datasetId: 'builtin:blobs', model: { hidden: [32, 32], task: 'binary' }, training: { epochs: 1000, batchSize: 16, progressEveryBatches: 10 } },
    });
    assert.equal(res.statusCode, 202, res.body);
    const { jobId, modelId } = res.json();
    await waitFor(async () => (await env.app.inject({ url: `/v1/training-jobs/${jobId}` })).json().status === 'running', 60_000, 'the job to run');

    const streamed = readSse(baseUrl, `/v1/training-jobs/${jobId}/events`, {}, 30_000);
    const del = await env.app.inject({ method: 'DELETE', url: `/v1/training-jobs/${jobId}` });
    assert.ok([200, 202].includes(del.statusCode), del.body);
    assert.equal(del.json().jobId, jobId);
    const final = await waitFor(async () => {
      const s = (await env.app.inject({ url: `/v1/training-jobs/${jobId}` })).json();
      return s.status === 'cancelled' ? s : null;
    }, 30_000, 'cancelled');
    assert.equal(final.modelId, modelId);
    const stream = await streamed;
    assert.equal(stream.events.at(-1)?.event, 'cancelled');
    const again = await env.app.inject({ method: 'DELETE', url: `/v1/training-jobs/${jobId}` });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().status, 'cancelled');
  });

  test('app.close() ends an open SSE stream of a job that is still running (the preClose hook)', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/training-jobs',
      payload: { datasetId: 'builtin:blobs', model: { hidden: [16], task: 'binary' }, training: { epochs: 1000, batchSize: 16 } },
    });
    const { jobId } = res.json();
    await waitFor(async () => (await env.app.inject({ url: `/v1/training-jobs/${jobId}` })).json().status === 'running', 60_000, 'the job to run');
    // The stream is open (its first event arrived) and the job keeps running: nothing but the hook ends it.
    let raw = '';
    let firstEvent!: () => void;
    const established = new Promise<void>((resolve) => (firstEvent = resolve));
    const ended = new Promise<void>((resolve, reject) => {
      const req = http.get(new URL(`/v1/training-jobs/${jobId}/events`, baseUrl), { headers: { accept: 'text/event-stream' } }, (r) => {
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => {
          raw += chunk;
          if (raw.includes('event: status')) firstEvent();
        });
        r.on('end', resolve);
        r.on('error', reject);
      });
      req.on('error', reject);
    });
    await established;
    // Bounded: without the hook, close would wait for the client to leave, and this would time out.
    await withTimeout(env.app.close(), 20_000, 'app.close() with an open event stream');
    await withTimeout(ended, 5000, 'the end of the stream');
    assert.doesNotMatch(raw, /event: (completed|failed|cancelled)/, 'the stream ended without a final event: the close ended it');
    assert.equal((await env.queue.getStatus(jobId))?.status, 'running', 'the job was still running');
    await env.queue.cancel(jobId);
  });
});
