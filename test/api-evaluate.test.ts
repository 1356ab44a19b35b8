// POST /v1/models/:id/evaluate through HTTP: a checkpoint with weights chosen by hand, evaluated on the
// test part of an uploaded dataset, equals the hand computation; every refusal names its field.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { storeDataset } from '../src/datasets/dataset-service.js';
import { partFromRows } from '../src/datasets/arrays.js';
import type { DatasetInfo } from '../src/schemas/dataset.js';
import { putTrainedModel, startEnv, type TestEnv } from './api-helpers.js';
import { formBody } from './helpers/form.js';
import { LABELS, ROWS, knownCheckpoint, metricsByHand } from './helpers/known-model.js';
import { tfjsModel, trainingState } from './store-fixtures.js';

describe('POST /v1/models/:modelId/evaluate', () => {
  let env: TestEnv;
  let withTest: DatasetInfo;
  before(async () => {
    env = await startEnv();
    const now = new Date().toISOString();
    for (const task of ['multiclass', 'binary'] as const) {
      const doc = { ...knownCheckpoint(task), modelId: `mdl_${task}` };
      await env.store.putModel({ modelId: doc.modelId, jobId: `job_${task}`, datasetId: 'x', spec: doc.spec, training: doc.training, createdAt: now, updatedAt: now });
      await env.store.putCheckpoint(doc, trainingState(doc.modelId, 1), tfjsModel(doc));
    }
    await env.store.putModel({ ...(await env.store.getModel('mdl_binary'))!, modelId: 'mdl_empty', jobId: 'job_empty' });
    // Training rows: the first two; the test part: all seven rows, uploaded as CSV files.
    const csv = (rows: number[][], labels: number[]) => `a,b,y\n${rows.map((r, i) => `${r.join(',')},${labels[i]}`).join('\n')}\n`;
    const { payload, headers } = await formBody([
      ['label', 'y'],
      ['features', { filename: 'train.csv', bytes: csv(ROWS.slice(0, 2), LABELS.multiclass.slice(0, 2)) }],
      ['testFeatures', { filename: 'test.csv', bytes: csv(ROWS, LABELS.multiclass) }],
    ]);
    const res = await env.app.inject({ method: 'POST', url: '/v1/datasets', payload, headers });
    assert.equal(res.statusCode, 201, res.body);
    withTest = res.json();
  });
  after(() => env.close());

  const evaluate = (modelId: string, payload: object) => env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/evaluate`, payload });

  it("evaluates the test part by default and equals the hand computation", async () => {
    const res = await evaluate('mdl_multiclass', { datasetId: withTest.id });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    const want = metricsByHand('multiclass');
    assert.deepEqual(
      { ...body, loss: undefined },
      { modelId: 'mdl_multiclass', datasetId: withTest.id, split: 'test', checkpoint: 1, rows: 7, loss: undefined, accuracy: want.accuracy, confusionMatrix: want.confusionMatrix },
    );
    assert.ok(Math.abs(body.loss - want.loss) < 1e-6, `${body.loss} vs ${want.loss}`);
    assert.equal((await evaluate('mdl_multiclass', { datasetId: withTest.id, split: 'train', checkpoint: 1 })).json().rows, 2);
    assert.equal((await evaluate('mdl_multiclass', { datasetId: withTest.id, split: 'all', checkpoint: 'latest' })).json().rows, 9);
    await env.store.setAlias('mdl_multiclass', 'prod', 1);
    for (const checkpoint of ['best', 'prod']) {
      const named = await evaluate('mdl_multiclass', { datasetId: withTest.id, checkpoint });
      assert.equal(named.statusCode, 200, named.body);
      assert.equal(named.json().checkpoint, 1, checkpoint);
    }
  });

  it('a binary model on 0/1 labels: the 2 x 2 confusion matrix', async () => {
    const info = await storeDataset(env.store, { train: partFromRows(ROWS, LABELS.binary), test: partFromRows(ROWS, LABELS.binary) });
    const res = await evaluate('mdl_binary', { datasetId: info.id, split: 'test' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().confusionMatrix, metricsByHand('binary').confusionMatrix);
  });

  it('a 784-input model on builtin:mnist: every test row counted once', async () => {
    await putTrainedModel(env.store, 'mdl_mnist', { inputDim: 784, hidden: [16], task: 'multiclass', classes: 10 });
    const res = await evaluate('mdl_mnist', { datasetId: 'builtin:mnist?scale=raw' });
    assert.equal(res.statusCode, 200, res.body);
    const { rows, confusionMatrix, accuracy } = res.json();
    assert.equal(rows, 2000);
    assert.equal(confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0), 2000);
    assert.equal(confusionMatrix.map((r: number[], k: number) => r[k]).reduce((a: number, b: number) => a + b, 0) / 2000, accuracy);
  });

  it('refusals name the field', async () => {
    const noTest = await storeDataset(env.store, { train: partFromRows(ROWS, LABELS.multiclass) });
    const wide = await storeDataset(env.store, { train: partFromRows([[1, 2, 3]], [0]), test: partFromRows([[1, 2, 3]], [0]) });
    const cases: [string, object, number, string | undefined, RegExp][] = [
      ['mdl_multiclass', { datasetId: noTest.id }, 400, 'split', /has no test part; evaluate split "train" or "all"/],
      ['mdl_multiclass', { datasetId: wide.id }, 400, 'datasetId', /has 3 features per row; the model takes inputDim=2/],
      ['mdl_binary', { datasetId: withTest.id }, 400, 'datasetId', /labels of .* are 0 to 2; a binary task takes labels 0 and 1/],
      ['mdl_multiclass', { datasetId: 'ds_nope' }, 404, 'datasetId', /no dataset ds_nope/],
      ['mdl_multiclass', { datasetId: 'builtin:iris' }, 404, 'datasetId', /no built-in dataset builtin:iris/],
      ['mdl_multiclass', { datasetId: '../x' }, 400, 'datasetId', /is not a dataset id/],
      ['mdl_multiclass', { datasetId: withTest.id, checkpoint: 7 }, 404, 'checkpoint', /no checkpoint for epoch 7/],
      ['mdl_multiclass', { datasetId: withTest.id, checkpoint: 'nope' }, 404, 'checkpoint', /has no alias "nope"/],
      ['mdl_multiclass', { datasetId: withTest.id, split: 'validation' }, 400, 'split', /must be one of/],
      ['mdl_multiclass', { datasetId: withTest.id, colour: 'red' }, 400, 'colour', /not a known field/],
      ['mdl_multiclass', {}, 400, 'datasetId', /datasetId is required/],
      ['mdl_nope', { datasetId: withTest.id }, 404, 'modelId', /no model mdl_nope/],
      ['mdl_empty', { datasetId: withTest.id }, 409, 'checkpoint', /has no checkpoint yet/],
    ];
    for (const [model, payload, status, field, message] of cases) {
      const res = await evaluate(model, payload);
      const what = `${model} ${JSON.stringify(payload)}: ${res.body}`;
      assert.equal(res.statusCode, status, what);
      assert.equal(res.json().field, field, what);
      assert.match(res.json().message, message, what);
    }
  });
});
