import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createDatasetFromUpload,
  getDatasetData,
  getDatasetInfo,
  missingDatasetMessage,
  newDatasetId,
  openDatasetSplit,
  storeDataset,
} from '../src/datasets/dataset-service.js';
import { DatasetError } from '../src/datasets/errors.js';
import { builtinDataset } from '../src/datasets/builtin.js';
import { classCount } from '../src/datasets/stats.js';
import { partFromRows } from '../src/datasets/arrays.js';
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
  assert.equal(classCount(Float32Array.from([0, 1]), Float32Array.from([4])), 5, 'over every part');
  assert.equal(classCount([0, 1], [0.5]), undefined);
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
  assert.deepEqual(info.storage, { features: 'float32', scale: 1 });
  assert.deepEqual(await getDatasetData(store, 'ds_fixed'), { train: partFromRows([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]) });

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

test('builtin:* ids resolve before the store; unknown ids are null', async (t) => {
  const store = await createFsStore(await tempDir(t));
  assert.deepEqual(await getDatasetInfo(store, 'builtin:blobs'), (await builtinDataset('builtin:blobs'))!.info);
  assert.equal((await getDatasetData(store, 'builtin:placement'))?.train.rows, 400);
  assert.equal(await getDatasetInfo(store, 'builtin:missing'), null);
  assert.equal(await getDatasetData(store, 'builtin:missing'), null);
  assert.equal(await getDatasetInfo(store, 'ds_missing'), null);
  assert.equal(await getDatasetInfo(store, '../etc'), null);
});

test('a split reads stored and built-in datasets in chunks: train, test, or all (train then test)', async (t) => {
  const store = await createFsStore(await tempDir(t));
  const train = partFromRows([[1], [2], [3], [4], [5]], [0, 1, 0, 1, 0]);
  const test = partFromRows([[10], [20]], [1, 1]);
  const info = await storeDataset(store, { train, test }, { name: 'split' }, () => 'ds_split');
  assert.deepEqual([info.rows, info.test?.rows, info.classes], [5, 2, 2]);
  const read = async (split: 'train' | 'test' | 'all', chunk: number) => {
    const reader = (await openDatasetSplit(store, 'ds_split', split))!;
    const sizes: number[] = [];
    const xs: number[] = [];
    for await (const c of reader.chunks(chunk)) {
      sizes.push(c.rows);
      xs.push(...c.x);
    }
    await reader.close();
    return { rows: reader.rows, sizes, xs };
  };
  assert.deepEqual(await read('train', 2), { rows: 5, sizes: [2, 2, 1], xs: [1, 2, 3, 4, 5] });
  assert.deepEqual(await read('test', 10), { rows: 2, sizes: [2], xs: [10, 20] });
  assert.deepEqual(await read('all', 3), { rows: 7, sizes: [3, 2, 2], xs: [1, 2, 3, 4, 5, 10, 20] });

  await storeDataset(store, { train }, {}, () => 'ds_notest');
  assert.equal(await openDatasetSplit(store, 'ds_notest', 'test'), null);
  assert.equal((await openDatasetSplit(store, 'ds_notest', 'all'))?.rows, 5);
  assert.equal(await openDatasetSplit(store, 'ds_none', 'train'), null);

  const mnist = (await openDatasetSplit(store, 'builtin:mnist?scale=raw', 'test'))!;
  assert.equal(mnist.rows, 2000);
  let rows = 0;
  for await (const c of mnist.chunks(512)) rows += c.rows;
  assert.equal(rows, 2000);
});

test('missing datasets are explained: uploads, unknown built-ins', async () => {
  assert.match(await missingDatasetMessage('ds_gone'), /no dataset ds_gone; upload one with POST \/v1\/datasets/);
  assert.match(await missingDatasetMessage('builtin:iris'), /the built-in datasets are builtin:blobs/);
});
