import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createFsStore } from '../src/store/fs-store.js';
import type { DatasetInfo } from '../src/schemas/dataset.js';
import { listTree, modelRecord, tempDir } from './store-fixtures.js';

const info = (id: string): DatasetInfo => ({
  id,
  name: 'tiny',
  rows: 3,
  features: 2,
  featureNames: ['a', 'b'],
  classes: 2,
  stats: { mean: [1, 2], std: [0.5, 0.25], min: [0, 1], max: [2, 3] },
  createdAt: '2024-01-01T00:00:00.000Z',
});

test('createFsStore creates the directory layout', async (t) => {
  const dir = path.join(await tempDir(t), 'nested', 'data');
  await createFsStore(dir);
  assert.deepEqual(await listTree(dir), ['datasets', 'models']);
});

test('datasets round trip, unknown ids read as null', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  const data = { features: [[0, 1], [1, 2], [2, 3]].map((r) => r.map((v) => v + 0.1)), labels: [0, 1, 1] };
  await store.putDataset(info('ds_abc'), data);
  assert.deepEqual(await store.getDatasetInfo('ds_abc'), info('ds_abc'));
  assert.deepEqual(await store.getDatasetData('ds_abc'), data);
  assert.equal(await store.getDatasetInfo('ds_missing'), null);
  assert.equal(await store.getDatasetData('ds_missing'), null);
  // builtin:* never reaches the disk
  assert.equal(await store.getDatasetInfo('builtin:blobs'), null);
  await assert.rejects(store.putDataset(info('builtin:blobs'), data));
  assert.deepEqual(await listTree(path.join(dir, 'datasets')), ['ds_abc.data.json', 'ds_abc.json']);
});

test('a large dataset is written in chunks and reads back identical', async (t) => {
  const store = await createFsStore(await tempDir(t));
  const features = Array.from({ length: 20_000 }, (_, i) => [i / 7, -(i + 1) * 1e-9, Math.fround(i / 3)]);
  const labels = features.map((_, i) => i % 3);
  await store.putDataset({ ...info('ds_big'), rows: features.length, features: 3 }, { features, labels });
  const back = await store.getDatasetData('ds_big');
  assert.ok(back);
  assert.equal(back.features.length, 20_000);
  assert.ok(back.features.every((row, i) => row.every((v, j) => Object.is(v, features[i][j]))));
  assert.deepEqual(back.labels, labels);
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

test('datasets: listed, and deleted info first', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await store.putDataset(info('ds_a'), { features: [[1, 2]], labels: [0] });
  await store.putDataset(info('ds_b'), { features: [[1, 2]], labels: [1] });
  assert.deepEqual((await store.listDatasets()).map((d) => d.id).sort(), ['ds_a', 'ds_b']);
  assert.equal(await store.deleteDataset('ds_a'), true);
  assert.equal(await store.getDatasetInfo('ds_a'), null);
  assert.equal(await store.getDatasetData('ds_a'), null);
  assert.equal(await store.deleteDataset('ds_a'), false);
  assert.deepEqual(await listTree(path.join(dir, 'datasets')), ['ds_b.data.json', 'ds_b.json']);
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
  await store.putModel(modelRecord('m_1'));
  await store.putDataset(info('ds_1'), { features: [[1, 2]], labels: [0] });
  await store.checkWritable();
  assert.deepEqual(await listTree(dir), [
    'datasets',
    'datasets/ds_1.data.json',
    'datasets/ds_1.json',
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
