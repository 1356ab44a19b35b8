// Uploads of files into the store (the UploadSession behind multipart/form-data and text/csv): what gets
// stored and described, and every cross-file check, with nothing left behind after a failure.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startUpload } from '../src/datasets/dataset-service.js';
import { DatasetError, DatasetTooLargeError } from '../src/datasets/errors.js';
import { createFsStore } from '../src/store/fs-store.js';
import type { Store } from '../src/store/store.js';
import { chunked } from './helpers/decode.js';
import { listTree, tempDir } from './store-fixtures.js';
import { idxU8 } from './helpers/idx.js';

const limits = { maxRows: 1000, maxFeatures: 100, maxBytes: 1 << 20 };
const fixture = (name: string) => new Uint8Array(fs.readFileSync(new URL(`../../test/fixtures/npy/${name}`, import.meta.url)));


type Step = ['field', string, string] | ['file', string, string, Uint8Array | string];

async function upload(store: Store, steps: Step[], lim = limits) {
  const session = await startUpload(store, lim, 'files', () => 'ds_up');
  try {
    for (const step of steps) {
      if (step[0] === 'field') session.setField(step[1], step[2]);
      else {
        const bytes = typeof step[3] === 'string' ? Buffer.from(step[3]) : step[3];
        await session.addFile(step[1], step[2], chunked(bytes, 13));
      }
    }
    return await session.finish();
  } catch (err) {
    await session.abort();
    throw err;
  }
}

async function rejects(steps: Step[], field: string, message: RegExp, lim = limits, kind: typeof DatasetError = DatasetError) {
  const dir = await fs.promises.mkdtemp(path.join((await import('node:os')).tmpdir(), 'bn-up-'));
  try {
    const store = await createFsStore(dir);
    await assert.rejects(upload(store, steps, lim), (err: unknown) => {
      assert.ok(err instanceof kind, String(err));
      assert.equal((err as DatasetError).field, field);
      assert.match((err as DatasetError).message, message);
      return true;
    });
    assert.deepEqual(await listTree(path.join(dir, 'datasets')), [], 'nothing is left after a failed upload');
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

test('NPY features (float64) and labels (int64): stored as float32, described exactly', async (t) => {
  const store = await createFsStore(await tempDir(t));
  const info = await upload(store, [
    ['field', 'name', 'numpy'],
    ['file', 'features', 'x.npy', fixture('f8.npy')],
    ['file', 'labels', 'y.npy', fixture('i8-labels.npy')],
  ]);
  assert.equal(info.id, 'ds_up');
  assert.equal(info.name, 'numpy');
  assert.deepEqual([info.rows, info.features, info.classes], [4, 3, 3]);
  assert.deepEqual(info.storage, { features: 'float32', scale: 1 });
  assert.equal(info.test, undefined);
  assert.deepEqual(info.stats.mean, [0.0625, 0.1875, 0.3125]); // column j: (3i + j)/8 - 0.5 over i = 0..3
  assert.deepEqual(info.stats.min, [-0.5, -0.375, -0.25]);
  assert.match(info.source ?? '', /features=x\.npy, labels=y\.npy/);
  const data = await store.getDatasetData('ds_up');
  assert.deepEqual(Array.from(data!.train.x), Array.from({ length: 12 }, (_, k) => k / 8 - 0.5));
  assert.deepEqual(Array.from(data!.train.y), [0, 2, 1, 2]);
});

test('IDX images stay uint8, with a gzipped test part and a scale that the statistics include', async (t) => {
  const store = await createFsStore(await tempDir(t));
  const images = Array.from({ length: 3 * 4 }, (_, k) => (k * 17) % 256);
  const info = await upload(store, [
    ['field', 'scale', '0.5'],
    ['file', 'features', 'train-images-idx3-ubyte', idxU8([3, 2, 2], images)],
    ['file', 'labels', 'train-labels-idx1-ubyte', idxU8([3], [1, 0, 1])],
    ['file', 'testFeatures', 't10k-images.gz', gzipSync(idxU8([2, 2, 2], [0, 255, 10, 20, 30, 40, 50, 60]))],
    ['file', 'testLabels', 't10k-labels.gz', gzipSync(idxU8([2], [0, 1]))],
  ]);
  assert.deepEqual(info.storage, { features: 'uint8', scale: 0.5 });
  assert.deepEqual(info.test?.storage, { features: 'uint8', scale: 0.5 });
  assert.equal(info.test?.rows, 2);
  assert.equal(info.classes, 2);
  assert.deepEqual(info.test?.stats.max, [15, 127.5, 25, 30]);
  assert.deepEqual(info.stats.min, [0, 8.5, 17, 25.5].map((v, j) => Math.min(v, ...[0, 1, 2].map((i) => images[i * 4 + j] * 0.5))));
  const data = (await store.getDatasetData('ds_up'))!;
  assert.deepEqual(data.train.x, Uint8Array.from(images));
  assert.equal(data.train.scale, 0.5);
  assert.deepEqual(data.test?.x, Uint8Array.from([0, 255, 10, 20, 30, 40, 50, 60]));
});

test('CSV: a label column (the label field first) in the training and the test file', async (t) => {
  const store = await createFsStore(await tempDir(t));
  const info = await upload(store, [
    ['field', 'label', 'placed'],
    ['file', 'features', 'train.csv', 'gpa,iq,placed\n7,70,1\n8,80,0\n9,90,1\n'],
    ['file', 'testFeatures', 'test.csv.gz', gzipSync(Buffer.from('gpa,iq,placed\n6,60,0\n'))],
  ]);
  assert.deepEqual(info.featureNames, ['gpa', 'iq']);
  assert.deepEqual([info.rows, info.test?.rows, info.classes], [3, 1, 2]);
  assert.deepEqual(info.stats.mean, [8, 80]);
  assert.deepEqual(Array.from((await store.getDatasetData('ds_up'))!.test!.y), [0]);
});

test('cross-file checks name both files', async () => {
  const x = fixture('f4.npy');
  await rejects([['file', 'features', 'x.npy', x], ['file', 'labels', 'y.csv', '0\n1\n1\n']], 'labels', /"y\.csv"\) has 3 labels but features \("x\.npy"\) has 4 rows/);
  await rejects([['file', 'features', 'x.npy', x]], 'labels', /is required: a file with one label per row of features \("x\.npy"\)/);
  await rejects([['file', 'labels', 'y.npy', fixture('i8-labels.npy')]], 'features', /is required with labels/);
  await rejects([], 'features', /is required/);
  await rejects(
    [['file', 'features', 'x.npy', x], ['file', 'labels', 'y.npy', fixture('i8-labels.npy')], ['file', 'testFeatures', 'u.npy', fixture('u1-images.npy')], ['file', 'testLabels', 'v.npy', fixture('i8-labels.npy')]],
    'testFeatures',
    /testFeatures \("u\.npy"\) has 6 values per row; features \("x\.npy"\) has 3/,
  );
  await rejects(
    [['field', 'label', 'y'], ['file', 'features', 'a.csv', 'a,y\n1,0\n'], ['file', 'testFeatures', 'b.csv', 'b,y\n1,0\n']],
    'testFeatures',
    /columns of testFeatures \("b\.csv"\) differ/,
  );
  await rejects([['field', 'label', 'y'], ['file', 'features', 'a.csv', 'a,y\n1,0\n'], ['file', 'labels', 'l.csv', '0\n']], 'labels', /label column .* already gives this part's labels/);
});

test('labels must be one finite value per row; features finite: errors name file, row, column and byte', async () => {
  await rejects([['file', 'features', 'x.npy', fixture('f4.npy')], ['file', 'labels', 'onehot.npy', fixture('onehot.npy')]], 'labels', /"onehot\.npy", header: expected one label per row, got 3 values per row \(shape \(4, 3\)\); one-hot labels need converting.*argmax/);
  const nan = Buffer.from(fixture('f4.npy'));
  nan.writeFloatLE(Number.NaN, 128 + 4 * 7); // row 2, column 1
  await rejects([['file', 'features', 'x.npy', nan]], 'features', /"x\.npy", row 2, column 1 \(byte 156\): expected a finite number, got NaN/);
  const labels = Buffer.from(fixture('i8-labels.npy'));
  await rejects([['file', 'features', 'x.npy', fixture('f4.npy')], ['file', 'labels', 'y.csv', '0\n1\nx\n1\n']], 'labels', /"y\.csv", line 3: "x" is not a finite number/);
  assert.ok(labels.length > 0);
});

test('the form itself: unknown, repeated and late fields', async () => {
  await rejects([['field', 'colour', 'red']], 'colour', /is not a known field; the files are features, labels, testFeatures, testLabels and the fields name, label, scale/);
  await rejects([['field', 'name', 'a'], ['field', 'name', 'b']], 'name', /was sent twice/);
  await rejects([['field', 'scale', '-1']], 'scale', /must be a number > 0/);
  await rejects([['field', 'scale', 'abc']], 'scale', /must be a number > 0/);
  await rejects([['file', 'features', 'a.csv', 'a,y\n1,0\n'], ['field', 'label', 'y']], 'label', /arrived after the features file.*send the label field before the files/);
});

test('limits: rows and features by the header, stored bytes while streaming (413)', async () => {
  await rejects([['file', 'features', 'x.npy', fixture('f4.npy')]], 'features', /4 rows .* exceed the limit of 2 \(MAX_ROWS\)/, { ...limits, maxRows: 2 });
  const big = idxU8([100, 10], new Array(1000).fill(7));
  await rejects([['file', 'features', 'big.idx', big]], 'features', /more than 500 bytes as stored \(MAX_DATASET_BYTES\)/, { ...limits, maxBytes: 500 }, DatasetTooLargeError);
});
