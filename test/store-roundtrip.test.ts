import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createFsStore } from '../src/store/fs-store.js';
import { ModelGoneError } from '../src/store/store.js';
import { datasetInfo, listTree, modelRecord, tempDir } from './store-fixtures.js';

test('createFsStore creates the directory layout', async (t) => {
  const dir = path.join(await tempDir(t), 'nested', 'data');
  await createFsStore(dir);
  assert.deepEqual(await listTree(dir), ['datasets', 'models']);
});

test('models: put, get, list newest first, delete', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await store.putModel(modelRecord('m_old', '2024-01-01T00:00:00.000Z'));
  await store.putModel(modelRecord('m_new', '2024-03-01T00:00:00.000Z'));
  await store.putModel(modelRecord('m_mid', '2024-02-01T00:00:00.000Z'));
  assert.deepEqual(await store.getModel('m_mid'), modelRecord('m_mid', '2024-02-01T00:00:00.000Z'));
  assert.equal(await store.getModel('m_none'), null);
  assert.deepEqual(
    (await store.listModels()).map((m) => m.modelId),
    ['m_new', 'm_mid', 'm_old'],
  );
  assert.equal(await store.deleteModel('m_mid'), true);
  assert.equal(await store.getModel('m_mid'), null);
  assert.deepEqual((await store.listModels()).map((m) => m.modelId), ['m_new', 'm_old']);
  assert.equal(await store.deleteModel('m_mid'), false);
  assert.deepEqual(await listTree(path.join(dir, 'models')), ['m_new', 'm_new/model.json', 'm_old', 'm_old/model.json']);
});

test('updateModel rewrites an existing record and never brings a deleted model back', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await store.putModel(modelRecord('m_1'));
  await store.updateModel({ ...modelRecord('m_1'), probeRows: 7 });
  assert.equal((await store.getModel('m_1'))?.probeRows, 7);
  await store.deleteModel('m_1');
  // A worker finishing the job of a model deleted meanwhile: its write must fail, not recreate the model.
  await assert.rejects(store.updateModel({ ...modelRecord('m_1'), probeRows: 8 }), ModelGoneError);
  assert.equal(await store.getModel('m_1'), null);
  assert.deepEqual(await listTree(path.join(dir, 'models')), []);
});

test('a model directory without model.json (checkpoints only) is not listed', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await fs.mkdir(path.join(dir, 'models', 'm_orphan', 'checkpoints'), { recursive: true });
  await fs.writeFile(path.join(dir, 'models', '.tmp-1-abc'), '{}');
  await store.putModel(modelRecord('m_1'));
  assert.deepEqual((await store.listModels()).map((m) => m.modelId), ['m_1']);
});

test('no temporary files are left after writes', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await store.putModel(modelRecord('m_1'));
  await store.putDataset(datasetInfo('ds_1', 1), { train: { rows: 1, features: 2, x: Float32Array.from([1, 2]), scale: 1, y: Float32Array.from([0]) } });
  await store.checkWritable();
  assert.deepEqual(await listTree(dir), [
    'datasets',
    'datasets/ds_1',
    'datasets/ds_1.json',
    'datasets/ds_1/train-x.f32',
    'datasets/ds_1/train-y.f32',
    'models',
    'models/m_1',
    'models/m_1/model.json',
  ]);
});

test('checkWritable throws when the data directory is gone or not writable', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await store.checkWritable();
  await fs.rm(dir, { recursive: true });
  await assert.rejects(store.checkWritable());
});
