// A model's life through the HTTP API with the real worker: submission that reports every problem at
// once, idempotency (the same body, another body), retention during a real job, the history of every
// epoch, the lists and their cursor, deleting a model (while it trains, and while another API process
// serves it) and a dataset, and a job whose progress leaves Redis' footprint flat.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { buildApp } from '../src/api/app.js';
import { createFsStore } from '../src/store/fs-store.js';
import { createBullmqTrainingQueue } from '../src/queue/bullmq-training-queue.js';
import { EVENTS_MAX_LEN, QUEUE_NAME, QUEUE_PREFIX } from '../src/queue/names.js';
import { putTrainedModel, startEnv, waitFor, type TestEnv } from './api-helpers.js';

let env: TestEnv;

before(async () => {
  env = await startEnv({ worker: true });
});
after(async () => {
  await env?.close();
});

const blobsJob = (training: object = {}, model: object = {}) => ({
  datasetId: 'builtin:blobs',
  model: { hidden: [8], task: 'binary', ...model },
  training: { epochs: 3, batchSize: 64, seed: 3, ...training },
});

async function submit(payload: object, headers: Record<string, string> = {}) {
  return env.app.inject({ method: 'POST', url: '/v1/training-jobs', payload, headers });
}

async function finished(jobId: string) {
  return waitFor(async () => {
    const s = (await env.app.inject({ url: `/v1/training-jobs/${jobId}` })).json();
    return ['completed', 'failed', 'cancelled'].includes(s.status) ? s : null;
  }, 60_000, `job ${jobId} to finish`);
}

describe('submission', () => {
  test('every problem of a request is reported at once, the first as field and message', async () => {
    const res = await submit({
      datasetId: 'builtin:blobs',
      model: { hidden: [5000, 8], task: 'binary', batchNorm: { momentum: 1 } },
      training: { epochs: 1_000_000, batchSize: 0, learningRate: -1, colour: 'red' },
    });
    assert.equal(res.statusCode, 400, res.body);
    const body = res.json() as { field: string; message: string; errors: { field: string; message: string }[] };
    const fields = body.errors.map((e) => e.field).sort();
    assert.deepEqual(fields, ['model.batchNorm.momentum', 'model.hidden[0]', 'training.batchSize', 'training.colour', 'training.epochs', 'training.learningRate']);
    assert.deepEqual(body.errors[0], { field: body.field, message: body.message });
    // The server's own limit, named, at once (not the schema's hard cap first).
    assert.match(body.errors.find((e) => e.field === 'training.epochs')!.message, /<= 1000 \(this server's MAX_EPOCHS=1000\)/);
    assert.equal((await env.queue.counts()).waiting, 0);
  });

  test('what only the resolved job can tell is refused at submission too, together', async () => {
    // One row and the default validation split: no training rows; labels 2 for a binary task.
    const one = await submit({ data: { features: [[1, 2]], labels: [2] }, model: { hidden: [4], task: 'binary' } });
    assert.equal(one.statusCode, 400, one.body);
    assert.deepEqual(one.json().errors.map((e: { field: string }) => e.field), ['data.labels[0]', 'training.validationSplit']);
    // Two rows, one of them held out: one training row cannot be normalised with batch statistics.
    const two = await submit({ data: { features: [[1], [2]], labels: [0, 1] }, model: { hidden: [4], task: 'binary' } });
    assert.equal(two.statusCode, 400, two.body);
    assert.equal(two.json().field, 'training.validationSplit');
    assert.match(two.json().message, /at least 2 rows/);
    // A stored dataset's labels are checked from its facts: blobs has 2 classes, fine for multiclass...
    assert.equal((await submit(blobsJob({ epochs: 1 }, { task: 'multiclass' }))).statusCode, 202);
    // ...and too many parameters with an out-of-range batch size come together.
    const big = await submit(blobsJob({ batchSize: 100_000 }, { hidden: [4096, 4096, 4096] }));
    assert.deepEqual(big.json().errors.map((e: { field: string }) => e.field).sort(), ['model.hidden', 'training.batchSize']);
    assert.ok(!(await env.store.listModels()).some((m) => m.spec.hidden.length === 3), 'no record of a rejected job');
  });

  test('Idempotency-Key: the same body gets the first job, another body is 422 naming the key', async () => {
    const headers = { 'idempotency-key': 'lifecycle-1' };
    const a = await submit(blobsJob({ epochs: 1 }), headers);
    assert.equal(a.statusCode, 202, a.body);
    // The same request with its keys in another order is the same body.
    const b = await submit({ training: { seed: 3, batchSize: 64, epochs: 1 }, model: { task: 'binary', hidden: [8] }, datasetId: 'builtin:blobs' }, headers);
    assert.equal(b.statusCode, 202, b.body);
    assert.equal(b.json().jobId, a.json().jobId);
    assert.equal(b.json().modelId, a.json().modelId);
    const other = await submit(blobsJob({ epochs: 2 }), headers);
    assert.equal(other.statusCode, 422, other.body);
    assert.equal(other.json().field, 'Idempotency-Key');
    assert.match(other.json().message, /"lifecycle-1" was used for a different request body/);
    // Keys are per client: another key is another job.
    const c = await submit(blobsJob({ epochs: 1 }), { 'idempotency-key': 'lifecycle-2' });
    assert.notEqual(c.json().jobId, a.json().jobId);
    await finished(a.json().jobId);
    // After the job finished the key still returns it, with its status.
    const again = await submit(blobsJob({ epochs: 1 }), headers);
    assert.deepEqual(again.json(), { jobId: a.json().jobId, modelId: a.json().modelId, status: 'completed' });
  });
});

describe('retention and history', () => {
  test('a real job keeps the last N and the best checkpoint; every epoch stays in the history', async () => {
    const res = await submit(blobsJob({ epochs: 12, validationSplit: 0.2, checkpoints: { keepLast: 3, keepBest: 1 } }));
    assert.equal(res.statusCode, 202, res.body);
    const { jobId, modelId } = res.json();
    const done = await finished(jobId);
    assert.equal(done.status, 'completed', done.error);
    assert.deepEqual(done.history.map((h: { epoch: number }) => h.epoch), Array.from({ length: 12 }, (_, i) => i + 1));
    const model = (await env.app.inject({ url: `/v1/models/${modelId}` })).json();
    const kept = model.checkpoints.map((c: { epoch: number }) => c.epoch);
    const best = [...done.history].sort((a: { valLoss: number }, b: { valLoss: number }) => a.valLoss - b.valLoss)[0].epoch;
    assert.deepEqual(kept, [...new Set([best, 10, 11, 12])].sort((a, b) => a - b));
    assert.equal(model.latestEpoch, 12);
    assert.equal(model.status, 'completed');
    const history = (await env.app.inject({ url: `/v1/models/${modelId}/history` })).json();
    assert.equal(history.epochs.length, 12, 'pruned epochs keep their metrics');
    // A pruned checkpoint is gone for every reader.
    const pruned = [1, 2, 3, 4, 5, 6, 7, 8, 9].find((e) => e !== best)!;
    assert.equal((await env.app.inject({ url: `/v1/models/${modelId}/checkpoints/${pruned}` })).statusCode, 404);
    assert.equal((await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict?checkpoint=${pruned}`, payload: { x: [0, 0] } })).statusCode, 404);
    const files = await fs.readdir(path.join(env.dataDir, 'models', modelId, 'checkpoints'));
    assert.deepEqual(files.sort(), kept.map((e: number) => String(e).padStart(6, '0')));
  });

  test("a long job's progress leaves Redis flat: no history in the job, a bounded event stream", async () => {
    const res = await submit(blobsJob({ epochs: 300, batchSize: 500, validationSplit: 0 }, { hidden: [2] }));
    const { jobId, modelId } = res.json();
    const done = await finished(jobId);
    assert.equal(done.status, 'completed', done.error);
    const client = new Redis(env.redis.url);
    try {
      const key = `${QUEUE_PREFIX}:${QUEUE_NAME}`;
      const progress = JSON.parse((await client.hget(`${key}:${jobId}`, 'progress')) ?? '{}');
      assert.equal(progress.epoch, 300);
      assert.equal('history' in progress, false);
      assert.ok(JSON.stringify(progress).length < 400, 'the report is where training is, nothing more');
      // Every epoch adds events to the stream; BullMQ trims it to about EVENTS_MAX_LEN.
      const length = await client.xlen(`${key}:events`);
      assert.ok(length <= EVENTS_MAX_LEN * 1.2, `events stream of ${length} entries`);
    } finally {
      client.disconnect();
    }
    assert.equal((await env.store.readEpochs(modelId)).records.length, 300);
  });
});

describe('lists and deletion', () => {
  test('GET /v1/models, /v1/training-jobs and /v1/datasets page newest first with one cursor scheme', async () => {
    const all = (await env.app.inject({ url: '/v1/models?limit=1000' })).json().models as { modelId: string; createdAt: string; jobId: string }[];
    assert.ok(all.length >= 4);
    const sorted = [...all].sort((a, b) => (a.createdAt === b.createdAt ? (a.modelId < b.modelId ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
    assert.deepEqual(all.map((m) => m.modelId), sorted.map((m) => m.modelId));
    const walk = async (url: string, key: string, id: string) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 100; page++) {
        const body = (await env.app.inject({ url: `${url}${url.includes('?') ? '&' : '?'}limit=2${cursor ? `&cursor=${cursor}` : ''}` })).json();
        seen.push(...body[key].map((x: Record<string, string>) => x[id]));
        assert.ok(body[key].length <= 2);
        cursor = body.nextCursor;
        if (!cursor) return seen;
      }
      throw new Error('no end');
    };
    assert.deepEqual(await walk('/v1/models', 'models', 'modelId'), all.map((m) => m.modelId));
    const jobs = await walk('/v1/training-jobs', 'jobs', 'jobId');
    assert.deepEqual(jobs, all.map((m) => m.jobId), 'a job per model, in the same order');
    const completed = (await env.app.inject({ url: '/v1/training-jobs?status=completed&limit=1000' })).json().jobs as { status: string }[];
    assert.ok(completed.length >= 2 && completed.every((j) => j.status === 'completed'));
    const datasets = await walk('/v1/datasets', 'datasets', 'id');
    assert.ok(datasets.includes('builtin:blobs') && datasets.includes('builtin:placement'));
  });

  test('DELETE /v1/models/:id cancels its running job, then the model is gone for every reader', async () => {
    const res = await submit(blobsJob({ epochs: 1000, batchSize: 16 }, { hidden: [32, 32] }));
    const { jobId, modelId } = res.json();
    await waitFor(async () => (await env.store.listCheckpoints(modelId)).length >= 1, 60_000, 'a checkpoint');
    assert.equal((await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict`, payload: { x: [0, 0] } })).statusCode, 200);
    const del = await env.app.inject({ method: 'DELETE', url: `/v1/models/${modelId}` });
    assert.equal(del.statusCode, 204, del.body);
    for (const url of [`/v1/models/${modelId}`, `/v1/models/${modelId}/history`, `/v1/models/${modelId}/checkpoints/latest`, `/v1/training-jobs/${jobId}`]) {
      assert.equal((await env.app.inject({ url })).statusCode, 404, url);
    }
    assert.equal((await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict`, payload: { x: [0, 0] } })).statusCode, 404);
    assert.ok(!(await env.app.inject({ url: '/v1/models?limit=1000' })).json().models.some((m: { modelId: string }) => m.modelId === modelId));
    await assert.rejects(fs.access(path.join(env.dataDir, 'models', modelId)));
    // Nothing comes back: the job stopped (a save after the deletion would have made the directory again).
    await new Promise((r) => setTimeout(r, 500));
    await assert.rejects(fs.access(path.join(env.dataDir, 'models', modelId)));
    assert.deepEqual((await fs.readdir(path.join(env.dataDir, 'models'))).filter((n) => n.startsWith('.')), []);
    assert.equal((await env.app.inject({ method: 'DELETE', url: `/v1/models/${modelId}` })).statusCode, 404);
  });

  test('another API process serving the model stops within a second of its deletion', async () => {
    await putTrainedModel(env.store, 'mdl_shared', { inputDim: 2, hidden: [3], task: 'binary', seed: 5 });
    // A second API process: its own store handle, cache and queue connection over the same DATA_DIR and Redis.
    const store = await createFsStore(env.dataDir);
    const queue = createBullmqTrainingQueue({ redisUrl: env.redis.url, attempts: 1 });
    const other = await buildApp({ config: env.config, store, queue, logger: pino({ level: 'silent' }) });
    try {
      const predict = () => other.inject({ method: 'POST', url: '/v1/models/mdl_shared/predict', payload: { x: [0.5, 0.5] } });
      assert.equal((await predict()).statusCode, 200);
      assert.equal((await env.app.inject({ method: 'DELETE', url: '/v1/models/mdl_shared' })).statusCode, 204);
      const t0 = Date.now();
      const status = await waitFor(async () => ((await predict()).statusCode === 404 ? 404 : null), 10_000, 'the other process to stop serving it');
      assert.equal(status, 404);
      // REVALIDATE_MS is a second; the bound has slack for a loaded machine.
      assert.ok(Date.now() - t0 < 5000, `${Date.now() - t0} ms`);
    } finally {
      await other.close();
      await queue.close();
    }
  });

  test('DELETE /v1/datasets/:id is 409 naming the job while a queued or running job uses it, then 204', async () => {
    const features = Array.from({ length: 200 }, (_, i) => [i % 7, i % 3]);
    const up = await env.app.inject({ method: 'POST', url: '/v1/datasets', payload: { features, labels: features.map((_, i) => i % 2) } });
    const datasetId = up.json().id;
    const res = await submit({ datasetId, model: { hidden: [8], task: 'binary' }, training: { epochs: 1000, batchSize: 16 } });
    const { jobId } = res.json();
    const busy = await env.app.inject({ method: 'DELETE', url: `/v1/datasets/${datasetId}` });
    assert.equal(busy.statusCode, 409, busy.body);
    assert.match(busy.json().message, new RegExp(`training job ${jobId}`));
    await env.app.inject({ method: 'DELETE', url: `/v1/training-jobs/${jobId}` });
    await finished(jobId);
    assert.equal((await env.app.inject({ method: 'DELETE', url: `/v1/datasets/${datasetId}` })).statusCode, 204);
    assert.equal((await env.app.inject({ url: `/v1/datasets/${datasetId}` })).statusCode, 404);
    assert.ok(!(await env.app.inject({ url: '/v1/datasets?limit=1000' })).json().datasets.some((d: { id: string }) => d.id === datasetId));
  });
});
