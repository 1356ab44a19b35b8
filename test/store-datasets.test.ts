// The filesystem store's datasets: binary files per part, published by the info document, read whole or
// in chunks; datasets stored as JSON rows by earlier versions still read.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createFsStore } from '../src/store/fs-store.js';
import type { DatasetData, DatasetPart } from '../src/schemas/dataset.js';
import { datasetInfo, listTree, tempDir } from './store-fixtures.js';

const f32 = (rows: number[][], labels: number[]): DatasetPart => ({
  rows: rows.length,
  features: rows[0].length,
  x: Float32Array.from(rows.flat()),
  scale: 1,
  y: Float32Array.from(labels),
});

test('a dataset with a uint8 test part round-trips bit for bit; unknown ids read as null', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  const data: DatasetData = {
    train: f32([[0.1, 1.1], [1.1, 2.1], [2.1, 3.1]], [0, 1, 1]),
    test: { rows: 2, features: 2, x: Uint8Array.from([0, 255, 17, 3]), scale: 1 / 255, y: Float32Array.from([1, 0]) },
  };
  const info = { ...datasetInfo('ds_abc'), test: { rows: 2, stats: datasetInfo('x').stats, storage: { features: 'uint8' as const, scale: 1 / 255 } } };
  await store.putDataset(info, data);
  assert.deepEqual(await store.getDatasetInfo('ds_abc'), info);
  assert.deepEqual(await store.getDatasetData('ds_abc'), data);
  assert.equal(await store.getDatasetInfo('ds_missing'), null);
  assert.equal(await store.getDatasetData('ds_missing'), null);
  assert.equal(await store.openDatasetPart('ds_missing', 'train'), null);
  // builtin:* never reaches the disk
  assert.equal(await store.getDatasetInfo('builtin:blobs'), null);
  await assert.rejects(store.putDataset({ ...info, id: 'builtin:blobs' }, data));
  assert.deepEqual(await listTree(path.join(dir, 'datasets')), [
    'ds_abc',
    'ds_abc.json',
    'ds_abc/test-x.u8',
    'ds_abc/test-y.f32',
    'ds_abc/train-x.f32',
    'ds_abc/train-y.f32',
  ]);
  // 3 rows x 2 float32 features; 2 rows x 2 bytes
  assert.equal((await fs.stat(path.join(dir, 'datasets', 'ds_abc', 'train-x.f32'))).size, 24);
  assert.equal((await fs.stat(path.join(dir, 'datasets', 'ds_abc', 'test-x.u8'))).size, 4);
});

test('a part is read in chunks at any offset; a range outside it is refused', async (t) => {
  const store = await createFsStore(await tempDir(t));
  const n = 10_000;
  const x = new Float32Array(n * 3).map((_, k) => Math.fround(k / 7));
  const y = new Float32Array(n).map((_, i) => i % 3);
  await store.putDataset({ ...datasetInfo('ds_big', n), features: 3 }, { train: { rows: n, features: 3, x, scale: 1, y } });
  const reader = (await store.openDatasetPart('ds_big', 'train'))!;
  assert.equal(reader.rows, n);
  assert.equal(await store.openDatasetPart('ds_big', 'test'), null);
  const got: number[] = [];
  for (let from = 0; from < n; from += 777) {
    const chunk = await reader.read(from, Math.min(n, from + 777));
    assert.equal(chunk.x.length, chunk.rows * 3);
    assert.deepEqual(Array.from(chunk.y), Array.from(y.subarray(from, from + chunk.rows)));
    got.push(...chunk.x);
  }
  assert.ok(got.every((v, k) => Object.is(v, x[k])));
  await assert.rejects(reader.read(n - 1, n + 1), RangeError);
  await reader.close();
});

test('a writer publishes nothing until commit; abort and a wrong size leave nothing behind', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  const writer = await store.createDatasetWriter('ds_w');
  const xs = await writer.openFeatures('train', 'uint8');
  await xs.write(Uint8Array.from([1, 2, 3, 4]));
  assert.equal(await store.getDatasetInfo('ds_w'), null, 'invisible before commit');
  const ys = await writer.openLabels('train');
  await ys.write(new Uint8Array(Float32Array.from([0, 1]).buffer));
  // The info says 3 rows: the files hold 2.
  await assert.rejects(writer.commit({ ...datasetInfo('ds_w', 3), storage: { features: 'uint8', scale: 1 } }), /holds 4 bytes, the info says 6/);
  await writer.abort();
  assert.deepEqual(await listTree(path.join(dir, 'datasets')), []);

  const ok = await store.createDatasetWriter('ds_ok');
  await (await ok.openFeatures('train', 'uint8')).write(Uint8Array.from([1, 2, 3, 4]));
  await (await ok.openLabels('train')).write(new Uint8Array(Float32Array.from([0, 1]).buffer));
  await ok.commit({ ...datasetInfo('ds_ok', 2), storage: { features: 'uint8', scale: 1 } });
  const back = await store.getDatasetData('ds_ok');
  assert.deepEqual(back?.train.x, Uint8Array.from([1, 2, 3, 4]));
  await ok.abort(); // after a commit: nothing to undo
  assert.ok(await store.getDatasetData('ds_ok'));
});

test('an upload that never finished is swept a day later; a fresh one is left alone', async (t) => {
  const dir = await tempDir(t);
  const datasets = path.join(dir, 'datasets');
  await createFsStore(dir);
  await fs.mkdir(path.join(datasets, '.tmp-old'));
  await fs.writeFile(path.join(datasets, '.tmp-old', 'train-x.f32'), 'x');
  await fs.mkdir(path.join(datasets, '.tmp-new'));
  const dayAgo = (Date.now() - 25 * 3600 * 1000) / 1000;
  await fs.utimes(path.join(datasets, '.tmp-old'), dayAgo, dayAgo);
  const store = await createFsStore(dir);
  const writer = await store.createDatasetWriter('ds_s');
  const names = await fs.readdir(datasets);
  assert.ok(!names.includes('.tmp-old'), names.join(' '));
  assert.ok(names.includes('.tmp-new'), names.join(' '));
  await writer.abort();
});

test('datasets stored as JSON rows by earlier versions are read (as float32)', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  const { storage: _storage, ...oldInfo } = datasetInfo('ds_old', 2);
  await fs.writeFile(path.join(dir, 'datasets', 'ds_old.json'), JSON.stringify(oldInfo));
  await fs.writeFile(path.join(dir, 'datasets', 'ds_old.data.json'), JSON.stringify({ labels: [0, 1], features: [[0.5, 1], [2, 3]] }));
  assert.deepEqual((await store.getDatasetInfo('ds_old'))?.storage, { features: 'float32', scale: 1 });
  const data = await store.getDatasetData('ds_old');
  assert.deepEqual(data, { train: f32([[0.5, 1], [2, 3]], [0, 1]) });
  const reader = (await store.openDatasetPart('ds_old', 'train'))!;
  assert.deepEqual(Array.from((await reader.read(1, 2)).x), [2, 3]);
  assert.ok(await store.deleteDataset('ds_old'));
  assert.deepEqual(await listTree(path.join(dir, 'datasets')), []);
});

test('listDatasets is newest first; deleteDataset removes the info, then the files', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  const part = f32([[1, 2]], [0]);
  for (const [id, at] of [['ds_a', '2024-01-01'], ['ds_c', '2024-03-01'], ['ds_b', '2024-02-01']]) {
    await store.putDataset({ ...datasetInfo(id, 1), createdAt: `${at}T00:00:00.000Z` }, { train: part });
  }
  assert.deepEqual((await store.listDatasets()).map((d) => d.id), ['ds_c', 'ds_b', 'ds_a']);
  assert.equal(await store.deleteDataset('ds_b'), true);
  assert.equal(await store.deleteDataset('ds_b'), false);
  assert.equal(await store.getDatasetInfo('ds_b'), null);
  assert.deepEqual((await store.listDatasets()).map((d) => d.id), ['ds_c', 'ds_a']);
  assert.ok(!(await fs.readdir(path.join(dir, 'datasets'))).some((n) => n.startsWith('ds_b')));
});

test('a damaged file is an error, not rows of zeros', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await store.putDataset(datasetInfo('ds_d', 3), { train: f32([[1, 2], [3, 4], [5, 6]], [0, 1, 0]) });
  await fs.truncate(path.join(dir, 'datasets', 'ds_d', 'train-x.f32'), 8);
  await assert.rejects(store.getDatasetData('ds_d'), /has 8 bytes, expected 24: the data directory is damaged/);
  const reader = (await store.openDatasetPart('ds_d', 'train'))!;
  await assert.rejects(reader.read(1, 3), /ends before byte 24/);
  await reader.close();
});
