import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createFsStore } from '../src/store/fs-store.js';
import { datasetInfo, listTree, modelRecord, tempDir } from './store-fixtures.js';

test('createFsStore creates the directory layout', async (t) => {
  const dir = path.join(await tempDir(t), 'nested', 'data');
  await createFsStore(dir);
  assert.deepEqual(await listTree(dir), ['datasets', 'models']);
});

test('models: put, get, list newest first, update', async (t) => {
  const store = await createFsStore(await tempDir(t));
  await store.putModel(modelRecord('m_old', '2024-01-01T00:00:00.000Z'));
  await store.putModel(modelRecord('m_new', '2024-03-01T00:00:00.000Z'));
  await store.putModel(modelRecord('m_mid', '2024-02-01T00:00:00.000Z'));
  assert.deepEqual(await store.getModel('m_mid'), modelRecord('m_mid', '2024-02-01T00:00:00.000Z'));
  assert.equal(await store.getModel('m_none'), null);
  assert.deepEqual(
    (await store.listModels()).map((m) => m.modelId),
    ['m_new', 'm_mid', 'm_old'],
  );

  const updated = await store.updateModel('m_old', { status: 'failed', error: 'boom' });
  assert.equal(updated?.status, 'failed');
  assert.equal(updated?.error, 'boom');
  assert.equal(updated?.modelId, 'm_old');
  assert.notEqual(updated?.updatedAt, '2024-01-01T00:00:00.000Z');
  assert.deepEqual(await store.getModel('m_old'), updated);

  // An explicit undefined clears an optional field (JSON drops it).
  const cleared = await store.updateModel('m_old', { status: 'queued', error: undefined });
  assert.equal((await store.getModel('m_old'))?.error, undefined);
  assert.equal(cleared?.status, 'queued');
  assert.equal(await store.updateModel('m_none', { status: 'running' }), null);
});

test('a model directory without model.json (checkpoints only) is not listed', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await fs.mkdir(path.join(dir, 'models', 'm_orphan', 'checkpoints'), { recursive: true });
  await fs.writeFile(path.join(dir, 'models', '.tmp-1-abc'), '{}');
  await store.putModel(modelRecord('m_1'));
  assert.deepEqual((await store.listModels()).map((m) => m.modelId), ['m_1']);
});

test('concurrent updateModel calls in one process lose no field', async (t) => {
  const store = await createFsStore(await tempDir(t));
  await store.putModel(modelRecord('m_c'));
  const stamps = Array.from({ length: 25 }, (_, i) => `2024-01-01T00:00:${String(i).padStart(2, '0')}.000Z`);
  // Each patch sets a different field combination; the final record must reflect the last patch applied
  // and every call must have seen the previous one (serialized read-modify-write).
  const seen: string[] = [];
  await Promise.all(
    stamps.map(async (s, i) => {
      const r = await store.updateModel('m_c', { jobId: `job-${i}`, updatedAt: s });
      seen.push(r!.jobId);
    }),
  );
  assert.equal(seen.length, 25);
  assert.deepEqual(seen, stamps.map((_, i) => `job-${i}`));
  assert.equal((await store.getModel('m_c'))?.jobId, 'job-24');
  await store.updateModel('m_c', { error: 'x' });
  await Promise.all([store.updateModel('m_c', { status: 'running' }), store.updateModel('m_c', { datasetId: 'ds_2' })]);
  const final = await store.getModel('m_c');
  assert.equal(final?.status, 'running');
  assert.equal(final?.datasetId, 'ds_2');
  assert.equal(final?.error, 'x');
});

test('no temporary files are left after writes', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await store.putModel(modelRecord('m_1'));
  await store.updateModel('m_1', { status: 'running' });
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
