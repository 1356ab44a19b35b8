import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classCount,
  createDatasetFromCsv,
  createDatasetFromUpload,
  getDatasetData,
  getDatasetInfo,
  newDatasetId,
} from '../src/datasets/dataset-service.js';
import { DatasetError } from '../src/datasets/errors.js';
import { builtinDataset } from '../src/datasets/builtin.js';
import { createFsStore } from '../src/store/fs-store.js';
import { tempDir } from './store-fixtures.js';

const limits = { maxRows: 1000, maxFeatures: 10 };

test('dataset ids: ds_ + 20 url-safe characters, unique', () => {
  const ids = new Set(Array.from({ length: 200 }, newDatasetId));
  assert.equal(ids.size, 200);
  for (const id of ids) assert.match(id, /^ds_[A-Za-z0-9_-]{20}$/);
});

test('classCount: max + 1 for non-negative integer labels, else undefined', () => {
  assert.equal(classCount([0, 1, 1, 0]), 2);
  assert.equal(classCount([2, 0, 4]), 5);
  assert.equal(classCount([1, 1]), 2);
  assert.equal(classCount([0, 0.5]), undefined);
  assert.equal(classCount([0, -1]), undefined);
  assert.equal(classCount([]), undefined);
});

test('createDatasetFromUpload validates, computes stats and stores', async (t) => {
  const store = await createFsStore(await tempDir(t));
  const info = await createDatasetFromUpload(
    store,
    { name: 'xor', features: [[0, 0], [0, 1], [1, 0], [1, 1]], labels: [0, 1, 1, 0], featureNames: ['a', 'b'] },
    limits,
    () => 'ds_fixed',
  );
  assert.equal(info.id, 'ds_fixed');
  assert.equal(info.name, 'xor');
  assert.equal(info.rows, 4);
  assert.equal(info.features, 2);
  assert.deepEqual(info.featureNames, ['a', 'b']);
  assert.equal(info.classes, 2);
  assert.deepEqual(info.stats, { mean: [0.5, 0.5], std: [0.5, 0.5], min: [0, 0], max: [1, 1] });
  assert.ok(!Number.isNaN(Date.parse(info.createdAt)));
  assert.deepEqual(await getDatasetInfo(store, 'ds_fixed'), info);
  assert.deepEqual(await getDatasetData(store, 'ds_fixed'), { features: [[0, 0], [0, 1], [1, 0], [1, 1]], labels: [0, 1, 1, 0] });

  const regression = await createDatasetFromUpload(store, { features: [[1], [2]], labels: [0.5, 3] }, limits);
  assert.match(regression.id, /^ds_/);
  assert.equal('classes' in regression, false);
  assert.equal('name' in regression, false);
  assert.equal('featureNames' in regression, false);
});

test('invalid uploads throw DatasetError and store nothing', async (t) => {
  const store = await createFsStore(await tempDir(t));
  await assert.rejects(
    createDatasetFromUpload(store, { features: [[1, 2], [3]], labels: [0, 1] }, limits, () => 'ds_bad'),
    (err: unknown) => err instanceof DatasetError && err.field === 'features[1]',
  );
  assert.equal(await store.getDatasetInfo('ds_bad'), null);
});

test('createDatasetFromCsv keeps column names and the label column', async (t) => {
  const store = await createFsStore(await tempDir(t));
  const info = await createDatasetFromCsv(store, 'gpa,iq,placed\n7,70,1\n8,80,0\n9,90,1\n6,60,0\n', 'placed', 'students', limits);
  assert.deepEqual(info.featureNames, ['gpa', 'iq']);
  assert.equal(info.name, 'students');
  assert.equal(info.classes, 2);
  assert.deepEqual(info.stats.mean, [7.5, 75]);
  assert.deepEqual((await getDatasetData(store, info.id))?.labels, [1, 0, 1, 0]);
  await assert.rejects(createDatasetFromCsv(store, 'a,b\n1,2\n', 'placed', undefined, limits), DatasetError);
});

test('builtin:* ids resolve before the store; unknown ids are null', async (t) => {
  const store = await createFsStore(await tempDir(t));
  assert.deepEqual(await getDatasetInfo(store, 'builtin:blobs'), builtinDataset('builtin:blobs')!.info);
  assert.equal((await getDatasetData(store, 'builtin:placement'))?.features.length, 400);
  assert.equal(await getDatasetInfo(store, 'builtin:missing'), null);
  assert.equal(await getDatasetData(store, 'builtin:missing'), null);
  assert.equal(await getDatasetInfo(store, 'ds_missing'), null);
  assert.equal(await getDatasetInfo(store, '../etc'), null);
});
