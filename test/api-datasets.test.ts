// The dataset routes through HTTP: multipart file uploads with a test part, the formats' errors as the
// user sees them, size limits (413), and the built-in image sets with their scale in the id or the query.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { DatasetInfo } from '../src/schemas/dataset.js';
import { listTree } from './store-fixtures.js';
import { startEnv, type TestEnv } from './api-helpers.js';
import { formBody, type FormEntry } from './helpers/form.js';
import path from 'node:path';
import { idxU8 } from './helpers/idx.js';

const fixture = (name: string) => new Uint8Array(fs.readFileSync(new URL(`../../test/fixtures/npy/${name}`, import.meta.url)));
const file = (filename: string, bytes: Uint8Array | string) => ({ filename, bytes });

describe('dataset uploads and built-ins over HTTP', () => {
  let env: TestEnv;
  before(async () => {
    env = await startEnv({ env: { BODY_LIMIT_BYTES: '4096', MAX_DATASET_BYTES: '8192' } });
  });
  after(() => env.close());

  const post = async (entries: FormEntry[]) => env.app.inject({ method: 'POST', url: '/v1/datasets', ...(await formBody(entries)) });

  it('stores NPY features and labels with a gzipped test part; GET returns the same info', async () => {
    const res = await post([
      ['name', 'numpy upload'],
      ['features', file('x.npy', fixture('f8.npy'))],
      ['labels', file('y.npy', fixture('i8-labels.npy'))],
      ['testFeatures', file('x-test.npy.gz', gzipSync(fixture('f4.npy')))],
      ['testLabels', file('y-test.npy', fixture('i4-labels-column.npy'))],
    ]);
    assert.equal(res.statusCode, 201, res.body);
    const info = res.json<DatasetInfo>();
    assert.equal(res.headers.location, `/v1/datasets/${info.id}`);
    assert.deepEqual([info.name, info.rows, info.features, info.classes, info.test?.rows], ['numpy upload', 4, 3, 3, 4]);
    assert.deepEqual(info.storage, { features: 'float32', scale: 1 });
    const got = await env.app.inject({ method: 'GET', url: `/v1/datasets/${info.id}` });
    assert.deepEqual(got.json(), info);
  });

  it('reads a CSV with its label column named by the label field', async () => {
    const res = await post([['label', 'placed'], ['features', file('students.csv', 'gpa,iq,placed\n7,70,1\n8,80,0\n9,90,1\n')]]);
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(res.json<DatasetInfo>().featureNames, ['gpa', 'iq']);
  });

  it('errors name the field, the file and the place, and leave nothing stored', async () => {
    const before = await listTree(path.join(env.dataDir, 'datasets'));
    const cases: [FormEntry[], number, string, RegExp][] = [
      [[['features', file('x.npy', fixture('f4.npy'))], ['labels', file('y.csv', '0\n1\n')]], 400, 'labels', /"y\.csv"\) has 2 labels but features \("x\.npy"\) has 4 rows/],
      [[['features', file('x.npy', fixture('f4.npy').subarray(0, 150))]], 400, 'features', /"x\.npy", byte 150: the file ends early \(truncated\)/],
      [[['features', file('x.npy', 'a,b\n1,2\n')]], 400, 'features', /"x\.npy", byte 0: not an NPY file: bad magic/],
      [[['features', file('x.npy', fixture('complex.npy'))]], 400, 'features', /dtype "<c8" is not supported/],
      [[['features', 'inline text']], 400, 'features', /must be a file/],
      [[['label', file('label.txt', 'y')]], 400, 'label', /must be a value/],
      [[['colour', 'red']], 400, 'colour', /is not a known field/],
      [[], 400, 'features', /is required/],
      [[['features', file('big.csv', 'a,y\n' + '1.125,0\n'.repeat(600))]], 413, 'features', /larger than 4096 bytes \(BODY_LIMIT_BYTES\)/],
      // 9,000 zero bytes compress to a few dozen: the stored size is what counts
      [[['features', file('x.idx.gz', gzipSync(idxU8([9000, 1])))]], 413, 'features', /^features: "x\.idx\.gz": the dataset takes more than 8192 bytes as stored \(MAX_DATASET_BYTES\)/],
    ];
    for (const [entries, status, field, message] of cases) {
      const res = await post(entries);
      const what = `${entries.map((e) => e[0]).join(',')}: ${res.body}`;
      assert.equal(res.statusCode, status, what);
      assert.equal(res.json().field, field, what);
      assert.match(res.json().message, message, what);
    }
    assert.deepEqual(await listTree(path.join(env.dataDir, 'datasets')), before);
  });

  it('?label and ?name belong to text/csv: a form carries them as fields', async () => {
    const { payload, headers } = await formBody([['features', file('a.csv', 'a,y\n1,0\n')]]);
    const res = await env.app.inject({ method: 'POST', url: '/v1/datasets?label=y', payload, headers });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().field, 'label');
  });

  it('builtin:mnist with its scale in the id, the query or a percent-encoded id', async () => {
    const unit = await env.app.inject({ method: 'GET', url: '/v1/datasets/builtin:mnist' });
    assert.equal(unit.statusCode, 200, unit.body);
    const info = unit.json<DatasetInfo>();
    assert.deepEqual([info.id, info.rows, info.test?.rows, info.features, info.classes], ['builtin:mnist', 8000, 2000, 784, 10]);
    assert.deepEqual(info.storage, { features: 'uint8', scale: 1 / 255 });
    for (const url of ['/v1/datasets/builtin:mnist?scale=raw', '/v1/datasets/builtin:mnist%3Fscale%3Draw', '/v1/datasets/builtin:mnist%3Fscale=raw']) {
      const raw = await env.app.inject({ method: 'GET', url });
      assert.equal(raw.statusCode, 200, `${url}: ${raw.body}`);
      assert.equal(raw.json().id, 'builtin:mnist?scale=raw', url);
      assert.equal(raw.json().storage.scale, 1, url);
    }
    const bad = [
      ['/v1/datasets/builtin:mnist?scale=big', 400, 'scale'],
      ['/v1/datasets/builtin:blobs?scale=raw', 400, 'scale'],
      ['/v1/datasets/ds_x?scale=raw', 400, 'scale'],
      ['/v1/datasets/builtin:mnist%3Fscale%3Draw?scale=unit', 400, 'scale'],
    ] as const;
    for (const [url, status, field] of bad) {
      const res = await env.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, status, `${url}: ${res.body}`);
      assert.equal(res.json().field, field, url);
    }
  });
});

describe('GET /v1/datasets/:id/rows: a page of rows', () => {
  let env: TestEnv;
  before(async () => {
    env = await startEnv();
  });
  after(() => env.close());

  const rows = async (url: string) => {
    const res = await env.app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json() };
  };

  it('answers the rows of an upload as stored, by index, with the split total', async () => {
    const { payload, headers } = await formBody([['label', 'placed'], ['features', file('s.csv', 'gpa,iq,placed\n7,70,1\n8,80,0\n9,90,1\n')]]);
    const up = await env.app.inject({ method: 'POST', url: '/v1/datasets', payload, headers });
    assert.equal(up.statusCode, 201, up.body);
    const id = up.json<DatasetInfo>().id;
    const page = await rows(`/v1/datasets/${id}/rows?split=train&offset=1&limit=5`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.deepEqual(page.body, {
      datasetId: id,
      split: 'train',
      offset: 1,
      total: 3,
      rows: [
        { index: 1, features: [8, 80], label: 0 },
        { index: 2, features: [9, 90], label: 1 },
      ],
    });
    // No test part: the default split (test) says what to ask for instead.
    const noTest = await rows(`/v1/datasets/${id}/rows`);
    assert.deepEqual([noTest.status, noTest.body.field], [400, 'split']);
    assert.match(noTest.body.message, /no test part; ask for \?split=train/);
  });

  it('builtin:mnist test rows: 784 pixels scaled to [0, 1] (raw: the bytes), labels 0-9', async () => {
    const unit = await rows('/v1/datasets/builtin:mnist/rows?offset=1998&limit=100');
    assert.equal(unit.status, 200, JSON.stringify(unit.body));
    assert.deepEqual([unit.body.split, unit.body.total, unit.body.rows.map((r: { index: number }) => r.index)], ['test', 2000, [1998, 1999]]);
    const raw = await rows('/v1/datasets/builtin:mnist/rows?offset=1998&limit=2&scale=raw');
    assert.equal(raw.body.datasetId, 'builtin:mnist?scale=raw');
    for (const [i, row] of unit.body.rows.entries()) {
      assert.equal(row.features.length, 784);
      assert.ok(Number.isInteger(row.label) && row.label >= 0 && row.label <= 9, String(row.label));
      assert.equal(raw.body.rows[i].label, row.label);
      assert.ok(raw.body.rows[i].features.every((v: number) => Number.isInteger(v) && v >= 0 && v <= 255));
      assert.ok(raw.body.rows[i].features.some((v: number) => v > 0), 'a digit has ink');
      row.features.forEach((v: number, j: number) => assert.ok(Math.abs(v - raw.body.rows[i].features[j] / 255) < 1e-6));
    }
  });

  it('400 names offset, limit or split; 404 an unknown dataset', async () => {
    const cases: [string, number, string, RegExp][] = [
      ['/v1/datasets/builtin:mnist/rows?offset=2000', 400, 'offset', /offset 2000 is past the last row of the test part \(it has 2000 rows: 0-1999\)/],
      ['/v1/datasets/builtin:mnist/rows?split=train&offset=8000', 400, 'offset', /train part \(it has 8000 rows/],
      ['/v1/datasets/builtin:mnist/rows?limit=101', 400, 'limit', /at most 100/],
      ['/v1/datasets/builtin:mnist/rows?offset=-1', 400, 'offset', /./],
      ['/v1/datasets/builtin:mnist/rows?split=all', 400, 'split', /./],
      ['/v1/datasets/ds_nothing_here/rows', 404, 'id', /no dataset ds_nothing_here/],
    ];
    for (const [url, status, field, message] of cases) {
      const res = await rows(url);
      assert.equal(res.status, status, `${url}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.field, field, url);
      assert.match(res.body.message, message, url);
    }
  });
});

describe('builtin:fashion-mnist without its Debian package', () => {
  let env: TestEnv;
  before(async () => {
    env = await startEnv({ env: { FASHION_MNIST_DIR: '/nonexistent/fashion-mnist' } });
  });
  after(async () => {
    await env.close();
    // Later apps in this process read Debian's directory again.
    const { configureBuiltins } = await import('../src/datasets/builtin.js');
    const { FASHION_MNIST_DIR } = await import('../src/datasets/fashion-mnist.js');
    configureBuiltins({ fashionMnistDir: FASHION_MNIST_DIR });
  });

  it('answers 404 saying how to install it, for the dataset and for a job', async () => {
    const res = await env.app.inject({ method: 'GET', url: '/v1/datasets/builtin:fashion-mnist?scale=raw' });
    assert.equal(res.statusCode, 404);
    assert.match(res.json().message, /apt-get install dataset-fashion-mnist/);
    const job = await env.app.inject({
      method: 'POST',
      url: '/v1/training-jobs',
      payload: { datasetId: 'builtin:fashion-mnist', model: { hidden: [4], task: 'multiclass' } },
    });
    assert.equal(job.statusCode, 404);
    assert.equal(job.json().field, 'datasetId');
    assert.match(job.json().message, /apt-get install dataset-fashion-mnist/);
  });
});

