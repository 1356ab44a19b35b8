// Datasets (JSON, CSV, builtin) and every error path of the API through app.inject, with a real Redis
// and store. Every error must have the one shape and name the field where there is one.
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEnv, tinyModel, type TestEnv } from './api-helpers.js';
import type { ModelRecord } from '../src/store/store.js';

let env: TestEnv;

before(async () => {
  env = await startEnv({ env: { BODY_LIMIT_BYTES: '200000', MAX_UNITS: '64', MAX_EPOCHS: '50' } });
});
after(async () => {
  await env?.close();
});

function assertError(res: { statusCode: number; json(): unknown }, status: number, field?: string | RegExp) {
  const body = res.json() as Record<string, unknown>;
  assert.equal(res.statusCode, status, JSON.stringify(body));
  assert.equal(body.statusCode, status);
  assert.equal(typeof body.error, 'string');
  assert.equal(typeof body.message, 'string');
  assert.deepEqual(
    Object.keys(body).filter((k) => !['statusCode', 'error', 'message', 'field', 'errors'].includes(k)),
    [],
    'no other keys in an error',
  );
  // errors lists every field at fault, and its first entry is field and message.
  if (body.field !== undefined) {
    const errors = body.errors as { field: string; message: string }[];
    assert.ok(Array.isArray(errors) && errors.length >= 1, JSON.stringify(body));
    assert.deepEqual(errors[0], { field: body.field, message: body.message });
  } else {
    assert.equal(body.errors, undefined);
  }
  if (field instanceof RegExp) assert.match(String(body.field), field);
  else if (field !== undefined) assert.equal(body.field, field, String(body.message));
  return body as { message: string; field?: string; errors?: { field: string; message: string }[] };
}

const blobsRows = { features: [[0, 0], [1, 1], [0.2, 0.1], [0.9, 1.2]], labels: [0, 1, 0, 1] };

describe('datasets', () => {
  test('JSON upload: 201, Location, statistics; GET returns the same', async () => {
    const res = await env.app.inject({ method: 'POST', url: '/v1/datasets', payload: { name: 'tiny', ...blobsRows, featureNames: ['a', 'b'] } });
    assert.equal(res.statusCode, 201, res.body);
    const info = res.json();
    assert.match(info.id, /^ds_/);
    assert.equal(res.headers.location, `/v1/datasets/${info.id}`);
    assert.equal(info.rows, 4);
    assert.equal(info.features, 2);
    assert.equal(info.classes, 2);
    assert.deepEqual(info.featureNames, ['a', 'b']);
    assert.equal(info.stats.mean.length, 2);
    const got = await env.app.inject({ url: res.headers.location as string });
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.json(), info);
  });

  test('CSV upload with ?label and ?name', async () => {
    const csv = 'gpa,iq,placed\n7.1,101,1\n6.0,90,0\n8.2,120,1\n';
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets?label=placed&name=students',
      headers: { 'content-type': 'text/csv; charset=utf-8' },
      payload: csv,
    });
    assert.equal(res.statusCode, 201, res.body);
    const info = res.json();
    assert.equal(info.rows, 3);
    assert.equal(info.features, 2);
    assert.deepEqual(info.featureNames, ['gpa', 'iq']);
    assert.equal(info.name, 'students');
  });

  test('builtin datasets', async () => {
    for (const id of ['builtin:blobs', 'builtin:placement']) {
      const res = await env.app.inject({ url: `/v1/datasets/${id}` });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().id, id);
      assert.equal(res.json().features, 2);
    }
  });

  test('CSV errors: missing label, unknown label column, NaN cell, ragged row', async () => {
    const post = (url: string, payload: string) =>
      env.app.inject({ method: 'POST', url, headers: { 'content-type': 'text/csv' }, payload });
    assertError(await post('/v1/datasets', 'a,y\n1,0\n'), 400, 'label');
    const unknown = assertError(await post('/v1/datasets?label=nope', 'a,y\n1,0\n'), 400, 'label');
    assert.match(unknown.message, /nope/);
    const nan = assertError(await post('/v1/datasets?label=y', 'a,y\n1,0\nNaN,1\n'), 400, /line 3/);
    assert.match(nan.message, /finite/);
    assertError(await post('/v1/datasets?label=y', 'a,b,y\n1,2,0\n3,1\n'), 400, /line 3/);
  });

  test('JSON errors: ragged rows, unknown field, wrong types, empty', async () => {
    const post = (payload: unknown) => env.app.inject({ method: 'POST', url: '/v1/datasets', payload: payload as object });
    assertError(await post({ features: [[1, 2], [3]], labels: [0, 1] }), 400, 'features[1]');
    assertError(await post({ ...blobsRows, colour: 'red' }), 400, 'colour');
    assertError(await post({ features: [[1, '2']], labels: [0] }), 400, 'features[0][1]');
    assertError(await post({ features: [], labels: [] }), 400, 'features');
    assertError(await post({ features: [[1]], labels: [0, 1] }), 400, 'labels');
  });

  test('unknown and malformed dataset ids', async () => {
    assertError(await env.app.inject({ url: '/v1/datasets/ds_doesnotexist' }), 404, 'id');
    assertError(await env.app.inject({ url: '/v1/datasets/builtin:nope' }), 404, 'id');
    assertError(await env.app.inject({ url: '/v1/datasets/..%2F..%2Fetc%2Fpasswd' }), 400, 'id');
    assertError(await env.app.inject({ url: '/v1/datasets/a.b' }), 400, 'id');
  });
});

describe('request-level errors', () => {
  test('malformed JSON -> 400', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/training-jobs',
      headers: { 'content-type': 'application/json' },
      payload: '{"model": {',
    });
    assert.match(assertError(res, 400).message, /not valid JSON/);
  });

  test('wrong content type -> 415', async () => {
    const xml = await env.app.inject({ method: 'POST', url: '/v1/training-jobs', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    assertError(xml, 415);
    const text = await env.app.inject({ method: 'POST', url: '/v1/training-jobs', headers: { 'content-type': 'text/plain' }, payload: 'hi' });
    assertError(text, 415, 'Content-Type');
    const csv = await env.app.inject({ method: 'POST', url: '/v1/models/mdl_x/predict', headers: { 'content-type': 'text/csv' }, payload: 'a\n1\n' });
    assertError(csv, 415, 'Content-Type');
  });

  test('oversized body -> 413', async () => {
    const big = { features: Array.from({ length: 20_000 }, () => [1.5, 2.5]), labels: Array.from({ length: 20_000 }, () => 0) };
    assert.match(assertError(await env.app.inject({ method: 'POST', url: '/v1/datasets', payload: big }), 413).message, /BODY_LIMIT_BYTES/);
    const csv = 'a,y\n' + '1.25,0\n'.repeat(40_000);
    assertError(await env.app.inject({ method: 'POST', url: '/v1/datasets?label=y', headers: { 'content-type': 'text/csv' }, payload: csv }), 413);
  });

  test('unknown route -> 404 in the same shape', async () => {
    assertError(await env.app.inject({ url: '/v1/nothing-here' }), 404);
  });
});

describe('training job validation (nothing is queued)', () => {
  const submit = (payload: unknown) => env.app.inject({ method: 'POST', url: '/v1/training-jobs', payload: payload as object });
  const base = { datasetId: 'builtin:blobs', ...tinyModel };
  const withModel = (model: object) => ({ ...base, model: { ...tinyModel.model, ...model } });

  test('each invalid request names its field', async () => {
    const before = (await env.store.listModels()).length;
    const cases: [unknown, string | RegExp][] = [
      [{ ...base, colour: 'red' }, 'colour'],
      [withModel({ extra: 1 }), 'model.extra'],
      [{ ...base, model: { task: 'binary' } }, 'model.hidden'],
      [withModel({ hidden: [0] }), 'model.hidden[0]'],
      [withModel({ hidden: [4, 'eight'] }), 'model.hidden[1]'],
      [withModel({ hidden: 4 }), 'model.hidden'],
      [withModel({ hidden: [] }), 'model.hidden'],
      [withModel({ batchNorm: { epsilon: -1e-3 } }), 'model.batchNorm.epsilon'],
      [withModel({ batchNorm: { momentum: 1 } }), 'model.batchNorm.momentum'],
      [withModel({ activation: 'swish' }), 'model.activation'],
      [withModel({ task: 'ranking' }), 'model.task'],
      [{ ...base, training: { epochs: '3' } }, 'training.epochs'],
      [{ ...base, training: { batchSize: 0 } }, 'training.batchSize'],
      [{ ...base, training: { learningRate: 0 } }, 'training.learningRate'],
      // the server's limits (MAX_UNITS=64, MAX_EPOCHS=50 in this test)
      [withModel({ hidden: [65] }), 'model.hidden[0]'],
      [{ ...base, training: { epochs: 51 } }, 'training.epochs'],
      // dataset choice
      [{ ...tinyModel }, 'datasetId'],
      [{ ...base, data: blobsRows }, 'datasetId'],
      [{ ...base, datasetId: '../../etc/passwd' }, 'datasetId'],
      [{ ...base, datasetId: 'ds_unknown' }, 'datasetId'],
      // inline data
      [{ ...tinyModel, data: { features: [[1, 2], [3]], labels: [0, 1] } }, 'data.features[1]'],
      [{ ...tinyModel, data: { features: [[1, 2], [3, 4]], labels: [0, 2] } }, 'data.labels[1]'],
      [{ ...tinyModel, data: { features: [[1, 2], [3, 4]], labels: [0] } }, 'data.labels'],
      // valid inline data with an invalid model: the rows must not be stored either
      [{ ...tinyModel, model: { ...tinyModel.model, hidden: [0] }, data: blobsRows }, 'model.hidden[0]'],
    ];
    const datasetsBefore = await fs.readdir(path.join(env.dataDir, 'datasets'));
    for (const [payload, field] of cases) {
      const res = await submit(payload);
      const expected = field === 'datasetId' && JSON.stringify(payload).includes('ds_unknown') ? 404 : 400;
      const body = assertError(res, expected, field);
      assert.ok(body.message.length > 10, body.message);
    }
    assert.equal((await env.store.listModels()).length, before, 'no model record for a rejected job');
    assert.deepEqual(await fs.readdir(path.join(env.dataDir, 'datasets')), datasetsBefore, 'no dataset stored for a rejected job');
    const counts = await env.queue.counts();
    assert.equal(counts.waiting + counts.active + counts.delayed + counts.prioritized, 0, 'nothing queued');
  });

  test('learning-rate schedule and early stopping: every option a job cannot run is refused in one answer', async () => {
    const before = (await env.store.listModels()).length;
    // Valid for the schema, not together: a warm-up as long as the job, a cosine floor above the rate, and
    // early stopping on the validation loss without validation rows.
    const together = assertError(
      await submit({
        ...base,
        training: {
          ...base.training,
          epochs: 4,
          learningRate: 0.01,
          validationSplit: 0,
          learningRateSchedule: { type: 'cosine', warmupEpochs: 4, minLearningRate: 0.05 },
          earlyStopping: { monitor: 'valLoss', patience: 2 },
        },
      }),
      400,
      'training.learningRateSchedule.warmupEpochs',
    );
    assert.deepEqual(
      together.errors!.map((e) => e.field),
      ['training.learningRateSchedule.warmupEpochs', 'training.learningRateSchedule.minLearningRate', 'training.earlyStopping.monitor'],
    );
    assert.match(together.errors![0].message, /fewer than training\.epochs \(4\)/);
    assert.match(together.errors![2].message, /validationSplit is 0; set a split .* or monitor loss/);
    // Outside the schema: a step factor outside (0, 1], a patience of 0, an unknown kind of statistics.
    const schema = assertError(
      await submit({
        ...base,
        training: { ...base.training, learningRateSchedule: { type: 'step', factor: 1.5 }, earlyStopping: { patience: 0 }, bnStatistics: 'batch' },
      }),
      400,
    );
    assert.deepEqual(
      schema.errors!.map((e) => e.field).sort(),
      ['training.bnStatistics', 'training.earlyStopping.patience', 'training.learningRateSchedule.factor'],
    );
    assertError(await submit({ ...base, training: { ...base.training, learningRateSchedule: { kind: 'step' } } }), 400, 'training.learningRateSchedule.kind');
    assert.equal((await env.store.listModels()).length, before, 'no model record for a rejected job');
  });

  test('unknown field messages say what to do', async () => {
    const body = assertError(await submit({ ...base, colour: 'red' }), 400, 'colour');
    assert.match(body.message, /not a known field/);
    const missing = assertError(await submit({ ...base, model: { task: 'binary' } }), 400, 'model.hidden');
    assert.match(missing.message, /model\.hidden is required/);
  });

  test('bad Idempotency-Key -> 400', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/training-jobs',
      headers: { 'idempotency-key': 'has spaces in it' },
      payload: base,
    });
    assertError(res, 400, 'Idempotency-Key');
  });
});

describe('ids and predictions without a model', () => {
  test('unknown ids -> 404, traversal ids -> 400', async () => {
    assertError(await env.app.inject({ url: '/v1/models/mdl_unknown' }), 404, 'modelId');
    assertError(await env.app.inject({ url: '/v1/models/mdl_unknown/checkpoints/1' }), 404, 'modelId');
    assertError(await env.app.inject({ url: '/v1/models/mdl_unknown/checkpoints/latest/model.json' }), 404, 'modelId');
    assertError(await env.app.inject({ url: '/v1/training-jobs/job_unknown' }), 404, 'jobId');
    assertError(await env.app.inject({ method: 'DELETE', url: '/v1/training-jobs/job_unknown' }), 404, 'jobId');
    assertError(await env.app.inject({ url: '/v1/models/..%2F..%2Fetc' }), 400, 'modelId');
    assertError(await env.app.inject({ url: '/v1/models/mdl_x/checkpoints/0' }), 400, 'epoch');
    // A literal /.. is resolved by the URL parser before routing: no route, never a file.
    assertError(await env.app.inject({ url: '/v1/models/mdl_x/checkpoints/../../../etc/passwd' }), 404);
    assertError(await env.app.inject({ url: '/v1/training-jobs/..%2Fx' }), 400, 'jobId');
    assertError(await env.app.inject({ method: 'POST', url: '/v1/models/mdl_unknown/predict', payload: { x: [1, 2] } }), 404, 'modelId');
  });

  test('predict body errors', async () => {
    const predict = (payload: unknown, qs = '') =>
      env.app.inject({ method: 'POST', url: `/v1/models/mdl_unknown/predict${qs}`, payload: payload as object });
    assertError(await predict({}), 400, 'x');
    assertError(await predict({ x: [1], instances: [[1]] }), 400, 'x');
    assertError(await predict({ x: ['a'] }), 400, 'x[0]');
    assertError(await predict({ x: [1], y: 2 }), 400, 'y');
    assertError(await predict({ instances: [[1], 'x'] }), 400, 'instances[1]');
    assertError(await predict({ x: [1] }, '?checkpoint=a.b'), 400, 'checkpoint');
    assertError(await predict({ x: [1] }, '?explain=yes'), 400, 'explain');
    assertError(await predict({ instances: [[1]] }, '?explain=true'), 400, 'explain');
  });

  test('a model without a checkpoint -> 409', async () => {
    const now = new Date().toISOString();
    await env.store.putModel({
      modelId: 'mdl_nockpt',
      jobId: 'job_nockpt',
      datasetId: 'builtin:blobs',
      spec: {
        inputDim: 2, outputDim: 1, hidden: [2], activation: 'relu', task: 'binary',
        batchNorm: { enabled: true, placement: 'before-activation', momentum: 0.99, epsilon: 1e-3, varianceEstimator: 'biased' },
        weightInit: { method: 'glorot-uniform', min: -0.05, max: 0.05, seed: 1 },
      },
      // As an earlier version wrote it: without the options added since (learning-rate schedule, BN statistics).
      training: { epochs: 1, batchSize: 8, optimizer: 'adam', learningRate: 0.01, validationSplit: 0, shuffle: true, seed: 1, progressEveryBatches: 0, checkpoints: { keepLast: 20, keepBest: 1 } } as ModelRecord['training'],
      createdAt: now,
      updatedAt: now,
    });
    assertError(await env.app.inject({ method: 'POST', url: '/v1/models/mdl_nockpt/predict', payload: { x: [1, 2] } }), 409);
    assertError(await env.app.inject({ url: '/v1/models/mdl_nockpt/checkpoints/latest' }), 409);
    assertError(await env.app.inject({ url: '/v1/models/mdl_nockpt/checkpoints/3' }), 404, 'epoch');
    const detail = await env.app.inject({ url: '/v1/models/mdl_nockpt' });
    assert.equal(detail.statusCode, 200);
    assert.equal(detail.json().latestEpoch, null);
    assert.deepEqual(detail.json().checkpoints, []);
    // ...and its training options are served with the defaults that job ran with.
    assert.equal(detail.json().training.learningRateSchedule.type, 'constant');
    assert.equal(detail.json().training.bnStatistics, 'ema');
    assert.equal(detail.json().training.earlyStopping, undefined);
  });
});
