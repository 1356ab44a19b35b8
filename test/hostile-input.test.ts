// Hostile input, route by route: every case answers its exact 4xx in the one error shape
// {statusCode, error, message, field?} naming the field or the cause, and the process keeps answering
// /healthz. Limits are set small in this file's config so that "too large" is cheap to send. At the end,
// nothing was written outside DATA_DIR: the temporary directory (TMPDIR) is a fresh, watched parent, and
// the repository's working tree is unchanged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { InjectOptions } from 'fastify';
import { putTrainedModel, startEnv, type TestEnv } from './api-helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const LIMITS = {
  BODY_LIMIT_BYTES: 32_768,
  MAX_ROWS: 50,
  MAX_FEATURES: 8,
  MAX_UNITS: 64,
  MAX_LAYERS: 3,
  MAX_EPOCHS: 20,
  MAX_BATCH_SIZE: 128,
  MAX_PARAMETERS: 3000,
  MAX_PREDICT_INSTANCES: 10,
};

const MODEL = 'mdl_hostile';
const INPUT_DIM = 3;

let env: TestEnv;
let watchedParent: string;
let savedTmpdir: string | undefined;
let repoBefore: string[];
let datasetId: string;

/** Files below the repository root, skipping what builds and installs own. */
async function repoTree(): Promise<string[]> {
  const skip = new Set(['node_modules', '.git', 'dist']);
  const out: string[] = [];
  async function walk(dir: string, rel: string): Promise<void> {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (rel === '' && skip.has(entry.name)) continue;
      const r = rel === '' ? entry.name : `${rel}/${entry.name}`;
      out.push(r);
      if (entry.isDirectory()) await walk(path.join(dir, entry.name), r);
    }
  }
  await walk(repoRoot, '');
  return out.sort();
}

before(async () => {
  repoBefore = await repoTree();
  // os.tmpdir() follows TMPDIR: DATA_DIR (and the test Redis's directory) are created in this fresh parent,
  // and so would anything the service wrote to the temporary directory.
  watchedParent = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-hostile-'));
  savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = watchedParent;
  env = await startEnv({
    env: { ...Object.fromEntries(Object.entries(LIMITS).map(([k, v]) => [k, String(v)])), RATE_LIMIT_MAX: '0' },
  });
  assert.equal(path.dirname(env.dataDir), watchedParent);

  await putTrainedModel(env.store, MODEL, { inputDim: INPUT_DIM, hidden: [4], task: 'binary', seed: 11 });

  const ds = await env.app.inject({ method: 'POST', url: '/v1/datasets', payload: { features: [[1, 2], [3, 4]], labels: [0, 1] } });
  assert.equal(ds.statusCode, 201, ds.body);
  datasetId = ds.json().id;
});

after(async () => {
  try {
    if (env) {
      // Only DATA_DIR and the test Redis's own directory may exist in the watched parent.
      const names = (await fs.readdir(watchedParent)).sort();
      const allowed = [path.basename(env.dataDir), path.basename(env.redis.dir)].sort();
      assert.deepEqual(names, allowed, `unexpected entries beside DATA_DIR in ${watchedParent}`);
      await env.close();
      assert.deepEqual(await fs.readdir(watchedParent), [], 'everything under the watched parent is removed on close');
    }
    assert.deepEqual(await repoTree(), repoBefore, 'nothing new in the repository working tree');
  } finally {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    await fs.rm(watchedParent, { recursive: true, force: true });
  }
});

interface Case {
  name: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string | (() => string);
  headers?: Record<string, string>;
  /** A string or Buffer is sent as-is (raw JSON text, CSV); an object is JSON-encoded. */
  payload?: string | Buffer | object;
  status: number;
  /** The `field` the answer must carry. */
  field?: string | RegExp;
  /** What the message must say; default: it contains the field. */
  message?: RegExp;
  /** oip: an Open Inference Protocol route, whose errors are {"error": message} only. */
  protocol?: 'oip';
}

const JSON_CT = { 'content-type': 'application/json' };
const CSV_CT = { 'content-type': 'text/csv' };
const SSE = { accept: 'text/event-stream' };
const raw = (text: string) => ({ headers: JSON_CT, payload: text });
const long = (n: number) => 'a'.repeat(n);

/** Bad ids, as path segments: [label, segment, status, field?, message?]. */
const BAD_IDS: [string, string, number, string | undefined, RegExp | undefined][] = [
  ['encoded traversal ..%2F..%2Fetc', '..%2F..%2Fetc', 400, 'ID', /pattern/],
  ['dot segment %2e%2e (normalised away by the URL parser: no route)', '%2e%2e', 404, undefined, /no route/],
  ['NUL byte a%00b', 'a%00b', 400, 'ID', /pattern/],
  ['id of 129 characters', long(129), 400, 'ID', /pattern/],
  ['id of 101 characters (valid pattern, beyond Fastify default maxParamLength)', long(101), 404, 'ID', /no /],
  ['id of 5000 characters', long(5000), 414, undefined, /longer than/],
  ['bad %-escape %ZZ', '%ZZ', 400, undefined, /%-escape/],
  ['space and quote', 'a%20%22b', 400, 'ID', /pattern/],
];

function idCases(route: string, method: Case['method'], url: (id: string) => string, idField: string, extra: Partial<Case> = {}): Case[] {
  const cases: Case[] = BAD_IDS.map(([label, seg, status, field, message]) => ({
    name: `${route}: ${label}`,
    method,
    url: url(seg),
    status,
    field: field === 'ID' ? idField : field,
    message,
    ...extra,
  }));
  // A literal ../ is resolved before routing: no route, never a file.
  cases.push({ name: `${route}: literal ../x`, method, url: url('../x'), status: 404, message: /no route/, ...extra });
  return cases;
}

// ---------------------------------------------------------------------------------------------------------
// POST /v1/datasets (JSON)

const rows2 = { features: [[1, 2], [3, 4]], labels: [0, 1] };
const postDs = (c: Omit<Case, 'method' | 'url'> & { url?: string }): Case => ({ method: 'POST', url: '/v1/datasets', ...c });

const datasetJsonCases: Case[] = [
  postDs({ name: 'malformed JSON', ...raw('{"features": [[1, 2]'), status: 400, message: /not valid JSON/ }),
  postDs({ name: 'trailing garbage after JSON', ...raw('{"features":[[1]],"labels":[0]} x'), status: 400, message: /not valid JSON/ }),
  postDs({ name: 'empty JSON body', ...raw(''), status: 400, message: /empty/ }),
  postDs({ name: '__proto__ key (prototype poisoning)', ...raw('{"features":[[1]],"labels":[0],"__proto__":{"x":1}}'), status: 400, message: /not valid JSON/ }),
  postDs({ name: 'constructor.prototype key', ...raw('{"features":[[1]],"labels":[0],"constructor":{"prototype":{"x":1}}}'), status: 400, message: /not valid JSON/ }),
  postDs({ name: 'application/xml', headers: { 'content-type': 'application/xml' }, payload: '<a/>', status: 415, message: /Unsupported Media Type/ }),
  postDs({ name: 'text/plain', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify(rows2), status: 415, field: 'Content-Type' }),
  postDs({ name: 'multipart/form-data without files', headers: { 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x--', status: 400, field: 'features', message: /features: is required/ }),
  postDs({ name: 'multipart/form-data without a boundary', headers: { 'content-type': 'multipart/form-data' }, payload: 'x', status: 400, field: 'body' }),
  postDs({ name: 'application/csv (not text/csv)', headers: { 'content-type': 'application/csv' }, payload: 'a,y\n1,0\n', status: 415, message: /Unsupported Media Type/ }),
  postDs({ name: 'a body without Content-Type', payload: JSON.stringify(rows2), status: 415, message: /Unsupported Media Type/ }),
  postDs({ name: 'no body and no Content-Type', status: 400, field: 'body', message: /request body is required/ }),
  postDs({ name: 'empty body and no Content-Type', payload: Buffer.alloc(0), status: 400, field: 'body', message: /request body is required/ }),
  postDs({ name: 'upper-case APPLICATION/JSON is still validated', headers: { 'content-type': 'APPLICATION/JSON; charset=UTF-8' }, payload: JSON.stringify({ ...rows2, name: {} }), status: 400, field: 'name' }),
  postDs({ name: 'body null', ...raw('null'), status: 400, field: 'body', message: /request body must be object/ }),
  postDs({ name: 'body an array', ...raw('[[1,2]]'), status: 400, field: 'body', message: /request body must be object/ }),
  postDs({ name: 'body a string', ...raw('"features"'), status: 400, field: 'body', message: /request body must be object/ }),
  postDs({ name: 'deeply nested arrays', ...raw('['.repeat(5000) + ']'.repeat(5000)), status: 400, field: 'body', message: /request body must be object/ }),
  postDs({ name: 'deeply nested features', ...raw(`{"features":${'['.repeat(5000)}${']'.repeat(5000)},"labels":[0]}`), status: 400, field: 'features[0][0]' }),
  postDs({ name: 'missing features', payload: { labels: [0] }, status: 400, field: 'features', message: /features is required/ }),
  postDs({ name: 'missing labels', payload: { features: [[1]] }, status: 400, field: 'labels', message: /labels is required/ }),
  postDs({ name: 'unknown field', payload: { ...rows2, colour: 'red' }, status: 400, field: 'colour', message: /colour is not a known field/ }),
  postDs({ name: 'features a string', payload: { features: '1,2', labels: [0] }, status: 400, field: 'features' }),
  postDs({ name: 'labels booleans', payload: { features: [[1]], labels: [true] }, status: 400, field: 'labels[0]' }),
  postDs({ name: 'name a number', payload: { ...rows2, name: 5 }, status: 400, field: 'name' }),
  postDs({ name: 'name empty', payload: { ...rows2, name: '' }, status: 400, field: 'name' }),
  postDs({ name: 'name of 201 characters', payload: { ...rows2, name: long(201) }, status: 400, field: 'name' }),
  postDs({ name: 'featureNames with a number', payload: { ...rows2, featureNames: ['a', 7] }, status: 400, field: 'featureNames[1]' }),
  postDs({ name: 'featureNames duplicated', payload: { ...rows2, featureNames: ['a', 'a'] }, status: 400, field: 'featureNames[1]', message: /duplicate/ }),
  postDs({ name: 'featureNames count mismatch', payload: { ...rows2, featureNames: ['a'] }, status: 400, field: 'featureNames', message: /expected 2 names/ }),
  postDs({ name: '"NaN" string in features', payload: { features: [['NaN', 1]], labels: [0] }, status: 400, field: 'features[0][0]' }),
  postDs({ name: '"Infinity" string label', payload: { features: [[1]], labels: ['Infinity'] }, status: 400, field: 'labels[0]' }),
  postDs({ name: 'null in features', payload: { features: [[null]], labels: [0] }, status: 400, field: 'features[0][0]' }),
  postDs({ name: '1e999 (Infinity) in raw JSON features', ...raw('{"features":[[1,1e999]],"labels":[0]}'), status: 400, field: 'features[0][1]' }),
  postDs({ name: '-1e999 in raw JSON labels', ...raw('{"features":[[1]],"labels":[-1e999]}'), status: 400, field: 'labels[0]' }),
  postDs({ name: 'huge finite feature 1e300', payload: { features: [[1e300]], labels: [0] }, status: 400, field: 'features[0][0]', message: /magnitude/ }),
  postDs({ name: 'huge finite label -1e300', payload: { features: [[1]], labels: [-1e300] }, status: 400, field: 'labels[0]', message: /magnitude/ }),
  postDs({ name: 'empty features', payload: { features: [], labels: [] }, status: 400, field: 'features' }),
  postDs({ name: 'empty labels', payload: { features: [[1]], labels: [] }, status: 400, field: 'labels' }),
  postDs({ name: 'empty row', payload: { features: [[]], labels: [0] }, status: 400, field: 'features[0]' }),
  postDs({ name: 'ragged rows', payload: { features: [[1, 2], [3]], labels: [0, 1] }, status: 400, field: 'features[1]', message: /expected 2 values, got 1/ }),
  postDs({ name: 'fewer labels than rows', payload: { features: [[1], [2]], labels: [0] }, status: 400, field: 'labels', message: /expected 2 labels/ }),
  postDs({
    name: `${LIMITS.MAX_ROWS + 1} rows > MAX_ROWS`,
    payload: { features: Array.from({ length: LIMITS.MAX_ROWS + 1 }, () => [1]), labels: Array(LIMITS.MAX_ROWS + 1).fill(0) },
    status: 400,
    field: 'features',
    message: new RegExp(`exceed the limit of ${LIMITS.MAX_ROWS}`),
  }),
  postDs({
    name: `${LIMITS.MAX_FEATURES + 1} features > MAX_FEATURES`,
    payload: { features: [Array(LIMITS.MAX_FEATURES + 1).fill(1)], labels: [0] },
    status: 400,
    field: 'features[0]',
    message: new RegExp(`exceed the limit of ${LIMITS.MAX_FEATURES}`),
  }),
  postDs({
    name: 'oversized body > BODY_LIMIT_BYTES',
    payload: { features: Array.from({ length: 5000 }, () => [1.25, 2.5]), labels: Array(5000).fill(0) },
    status: 413,
    message: /BODY_LIMIT_BYTES/,
  }),
  postDs({ name: '?label on a JSON upload', url: '/v1/datasets?label=y', payload: rows2, status: 400, field: 'label' }),
  postDs({ name: 'unknown query parameter', url: '/v1/datasets?colour=red', payload: rows2, status: 400, field: 'colour' }),
  postDs({ name: '?__proto__ query parameter', url: '/v1/datasets?__proto__=x', payload: rows2, status: 400, field: '__proto__' }),
];

// ---------------------------------------------------------------------------------------------------------
// POST /v1/datasets (CSV)

const csv = (name: string, text: string | Buffer, status: number, field: string | RegExp | undefined, message?: RegExp, url = '/v1/datasets?label=y'): Case => ({
  name: `CSV: ${name}`,
  method: 'POST',
  url,
  headers: CSV_CT,
  payload: text,
  status,
  field,
  message,
});

const datasetCsvCases: Case[] = [
  csv('no ?label', 'a,y\n1,0\n', 400, 'label', undefined, '/v1/datasets'),
  csv('empty ?label=', 'a,y\n1,0\n', 400, 'label', undefined, '/v1/datasets?label='),
  csv('?label repeated (an array)', 'a,y\n1,0\n', 400, 'label', undefined, '/v1/datasets?label=y&label=a'),
  csv('?label of 201 characters', 'a,y\n1,0\n', 400, 'label', undefined, `/v1/datasets?label=${long(201)}`),
  csv('unknown label column', 'a,b\n1,0\n', 400, 'label', /no column named "y"/),
  csv('empty body', '', 400, 'csv', /empty/),
  csv('whitespace only', ' \n \n', 400, 'csv', /empty/),
  csv('header only', 'a,y\n', 400, 'csv', /no data rows/),
  csv('only the label column', 'y\n1\n', 400, 'csv', /no feature columns/),
  csv('duplicate header', 'a,a,y\n1,2,0\n', 400, 'line 1', /duplicate column/),
  csv('empty header name', 'a,,y\n1,2,0\n', 400, 'line 1', /no name/),
  csv('NaN cell', 'a,y\n1,0\nNaN,1\n', 400, /^line 3/, /not a finite number/),
  csv('Infinity cell', 'a,y\nInfinity,0\n', 400, /^line 2/, /not a finite number/),
  csv('1e999 cell', 'a,y\n1e999,0\n', 400, /^line 2/, /not a finite number/),
  csv('hex cell', 'a,y\n0x1F,0\n', 400, /^line 2/, /not a finite number/),
  csv('empty cell', 'a,y\n,0\n', 400, /^line 2/, /not a finite number/),
  csv('huge finite cell 1e300', 'a,y\n1e300,0\n', 400, /^line 2/, /magnitude/),
  csv('ragged row', 'a,b,y\n1,2,0\n3,1\n', 400, 'line 3', /expected 3 values, got 2/),
  csv('unclosed quote', 'a,y\n"1,0\n', 400, 'csv', /Quote|quote/),
  csv('binary garbage', Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x01, 0x2c, 0x02, 0x0a]), 400, 'label', /no column named/),
  csv(`${LIMITS.MAX_ROWS + 1} data rows > MAX_ROWS`, 'a,y\n' + '1,0\n'.repeat(LIMITS.MAX_ROWS + 1), 400, 'csv', new RegExp(`more than ${LIMITS.MAX_ROWS}`)),
  csv(
    `${LIMITS.MAX_FEATURES + 1} feature columns > MAX_FEATURES`,
    `${Array.from({ length: LIMITS.MAX_FEATURES + 1 }, (_, j) => `f${j}`).join(',')},y\n${'1,'.repeat(LIMITS.MAX_FEATURES + 1)}0\n`,
    400,
    'csv',
    new RegExp(`exceed the limit of ${LIMITS.MAX_FEATURES}`),
  ),
  csv('oversized body > BODY_LIMIT_BYTES', 'a,y\n' + '1.25,0\n'.repeat(6000), 413, undefined, /BODY_LIMIT_BYTES/),
  csv('?name of 201 characters', 'a,y\n1,0\n', 400, 'name', undefined, `/v1/datasets?label=y&name=${long(201)}`),
];

// ---------------------------------------------------------------------------------------------------------
// GET /v1/datasets/:id

const datasetGetCases: Case[] = [
  ...idCases('GET /v1/datasets/:id', 'GET', (id) => `/v1/datasets/${id}`, 'id'),
  { name: 'GET /v1/datasets/:id: builtin:..%2Fx', url: '/v1/datasets/builtin:..%2Fx', status: 400, field: 'id', message: /pattern/ },
  { name: 'GET /v1/datasets/:id: unknown builtin', url: '/v1/datasets/builtin:nope', status: 404, field: 'id', message: /no built-in dataset builtin:nope; the built-in datasets are builtin:blobs/ },
  { name: 'GET /v1/datasets/:id: unknown id', url: '/v1/datasets/ds_unknown', status: 404, field: 'id', message: /no dataset ds_unknown/ },
  {
    name: 'GET /v1/datasets/:id: malformed JSON body is ignored, the bad id is not',
    url: '/v1/datasets/..%2Fx',
    headers: JSON_CT,
    payload: '{',
    status: 400,
    field: 'id',
  },
  ...idCases('GET /v1/datasets/:id/rows', 'GET', (id) => `/v1/datasets/${id}/rows`, 'id'),
  { name: 'GET /v1/datasets/:id/rows: unknown id', url: '/v1/datasets/ds_unknown/rows', status: 404, field: 'id', message: /no dataset ds_unknown/ },
  ...['-1', 'abc', '1.5', '1e3', '01', '', '9999999999'].map((v): Case => ({ name: `GET rows?offset=${v}`, url: `/v1/datasets/builtin:blobs/rows?split=train&offset=${v}`, status: 400, field: 'offset' })),
  { name: 'GET rows?offset past the last row', url: '/v1/datasets/builtin:blobs/rows?split=train&offset=1000', status: 400, field: 'offset', message: /past the last row/ },
  ...['0', '-1', '1.5', 'x', '', '0100'].map((v): Case => ({ name: `GET rows?limit=${v}`, url: `/v1/datasets/builtin:blobs/rows?split=train&limit=${v}`, status: 400, field: 'limit' })),
  ...['101', '999'].map((v): Case => ({ name: `GET rows?limit=${v}`, url: `/v1/datasets/builtin:blobs/rows?split=train&limit=${v}`, status: 400, field: 'limit', message: /at most 100/ })),
  ...['all', 'TEST', ''].map((v): Case => ({ name: `GET rows?split=${v}`, url: `/v1/datasets/builtin:blobs/rows?split=${v}`, status: 400, field: 'split' })),
  { name: 'GET rows of a dataset without a test part', url: '/v1/datasets/builtin:blobs/rows', status: 400, field: 'split', message: /no test part/ },
  { name: 'GET rows?scale=big', url: '/v1/datasets/builtin:mnist/rows?scale=big', status: 400, field: 'scale' },
  { name: 'GET rows?scale on an uploaded dataset', url: '/v1/datasets/ds_x/rows?scale=raw', status: 400, field: 'scale' },
  { name: 'GET rows?colour=red', url: '/v1/datasets/builtin:blobs/rows?colour=red', status: 400, field: 'colour' },
];

// ---------------------------------------------------------------------------------------------------------
// POST /v1/training-jobs

const model = { hidden: [4], task: 'binary' };
const job = (over: object = {}) => ({ datasetId: 'builtin:blobs', model, training: { epochs: 1 }, ...over });
const withModel = (m: object) => job({ model: { ...model, ...m } });
const withTraining = (t: object) => job({ training: { epochs: 1, ...t } });
const postJob = (c: Omit<Case, 'method' | 'url'>): Case => ({ method: 'POST', url: '/v1/training-jobs', ...c, name: `training job: ${c.name}` });
const rawJob = (fragment: string) => raw(`{"datasetId":"builtin:blobs","model":{"hidden":[4],"task":"binary"},${fragment}}`);

const trainingCases: Case[] = [
  postJob({ name: 'malformed JSON', ...raw('{"model": {'), status: 400, message: /not valid JSON/ }),
  postJob({ name: 'empty JSON body', ...raw(''), status: 400, message: /empty/ }),
  postJob({ name: 'application/xml', headers: { 'content-type': 'application/xml' }, payload: '<a/>', status: 415, message: /Unsupported Media Type/ }),
  postJob({ name: 'text/csv', headers: CSV_CT, payload: 'a,y\n1,0\n', status: 415, field: 'Content-Type' }),
  postJob({ name: 'body null', ...raw('null'), status: 400, field: 'body' }),
  postJob({ name: 'body an array', ...raw('[]'), status: 400, field: 'body' }),
  postJob({ name: 'missing model', payload: { datasetId: 'builtin:blobs' }, status: 400, field: 'model', message: /model is required/ }),
  postJob({ name: 'missing model.task', payload: { datasetId: 'builtin:blobs', model: { hidden: [4] } }, status: 400, field: 'model.task' }),
  postJob({ name: 'missing model.hidden', payload: { datasetId: 'builtin:blobs', model: { task: 'binary' } }, status: 400, field: 'model.hidden' }),
  postJob({ name: 'unknown top-level field', payload: job({ colour: 'red' }), status: 400, field: 'colour', message: /not a known field/ }),
  postJob({ name: 'unknown training field', payload: withTraining({ colour: 'red' }), status: 400, field: 'training.colour' }),
  postJob({ name: 'unknown batchNorm field', payload: withModel({ batchNorm: { gamma: 1 } }), status: 400, field: 'model.batchNorm.gamma' }),
  postJob({ name: 'hidden a string', payload: withModel({ hidden: '8' }), status: 400, field: 'model.hidden' }),
  postJob({ name: 'hidden 1.5 units', payload: withModel({ hidden: [1.5] }), status: 400, field: 'model.hidden[0]' }),
  postJob({ name: 'epochs a string', payload: withTraining({ epochs: '3' }), status: 400, field: 'training.epochs' }),
  postJob({ name: 'shuffle a string', payload: withTraining({ shuffle: 'yes' }), status: 400, field: 'training.shuffle' }),
  postJob({ name: 'task a number', payload: withModel({ task: 5 }), status: 400, field: 'model.task' }),
  postJob({ name: 'datasetId a number', payload: job({ datasetId: 7 }), status: 400, field: 'datasetId' }),
  postJob({ name: '"NaN" learningRate', payload: withTraining({ learningRate: 'NaN' }), status: 400, field: 'training.learningRate' }),
  postJob({ name: '1e999 learningRate (raw JSON)', ...rawJob('"training":{"learningRate":1e999}'), status: 400, field: 'training.learningRate' }),
  postJob({ name: '1e999 epochs (raw JSON)', ...rawJob('"training":{"epochs":1e999}'), status: 400, field: 'training.epochs' }),
  postJob({ name: '-1e999 seed (raw JSON)', ...rawJob('"training":{"seed":-1e999}'), status: 400, field: 'training.seed' }),
  postJob({ name: '1e999 momentum (raw JSON)', ...raw('{"datasetId":"builtin:blobs","model":{"hidden":[4],"task":"binary","batchNorm":{"momentum":1e999}}}'), status: 400, field: 'model.batchNorm.momentum' }),
  postJob({ name: '1e999 hidden units (raw JSON)', ...raw('{"datasetId":"builtin:blobs","model":{"hidden":[1e999],"task":"binary"}}'), status: 400, field: 'model.hidden[0]' }),
  postJob({ name: 'hidden [1e308]', payload: withModel({ hidden: [1e308] }), status: 400, field: 'model.hidden[0]' }),
  postJob({ name: 'epochs 1e15', payload: withTraining({ epochs: 1e15 }), status: 400, field: 'training.epochs' }),
  postJob({ name: 'batchSize 2^53', payload: withTraining({ batchSize: 2 ** 53 }), status: 400, field: 'training.batchSize' }),
  postJob({ name: 'weightInit.min -1e300', payload: withModel({ weightInit: { min: -1e300 } }), status: 400, field: 'model.weightInit.min' }),
  postJob({ name: 'empty hidden', payload: withModel({ hidden: [] }), status: 400, field: 'model.hidden' }),
  postJob({ name: 'empty inline features', payload: { model, data: { features: [], labels: [] } }, status: 400, field: 'data.features' }),
  postJob({ name: 'ragged inline rows', payload: { model, data: { features: [[1, 2], [3]], labels: [0, 1] } }, status: 400, field: 'data.features[1]' }),
  postJob({ name: '"NaN" inline feature', payload: { model, data: { features: [['NaN']], labels: [0] } }, status: 400, field: 'data.features[0][0]' }),
  postJob({ name: '1e999 inline feature (raw JSON)', ...raw('{"model":{"hidden":[4],"task":"binary"},"data":{"features":[[1e999]],"labels":[0]}}'), status: 400, field: 'data.features[0][0]' }),
  postJob({ name: 'binary label 2 (out of range)', payload: { model, data: { features: [[1], [2]], labels: [0, 2] } }, status: 400, field: 'data.labels[1]', message: /0 or 1/ }),
  postJob({ name: 'binary label 0.5', payload: { model, data: { features: [[1], [2]], labels: [0, 0.5] } }, status: 400, field: 'data.labels[1]' }),
  postJob({
    name: 'multiclass label -1',
    payload: { model: { hidden: [4], task: 'multiclass' }, data: { features: [[1], [2], [3]], labels: [0, 2, -1] } },
    status: 400,
    field: 'data.labels[2]',
    message: /integer class/,
  }),
  postJob({
    name: 'multiclass label 1.5',
    payload: { model: { hidden: [4], task: 'multiclass' }, data: { features: [[1], [2], [3]], labels: [0, 2, 1.5] } },
    status: 400,
    field: 'data.labels[2]',
  }),
  postJob({
    name: 'multiclass label 5000 (more classes than allowed)',
    payload: { model: { hidden: [4], task: 'multiclass' }, data: { features: [[1], [2]], labels: [0, 5000] } },
    status: 400,
    field: 'data.labels',
    message: /at most 1000/,
  }),
  postJob({
    name: `inline data with ${LIMITS.MAX_ROWS + 1} rows > MAX_ROWS`,
    payload: { model, data: { features: Array.from({ length: LIMITS.MAX_ROWS + 1 }, () => [1]), labels: Array(LIMITS.MAX_ROWS + 1).fill(0) } },
    status: 400,
    field: 'data.features',
  }),
  postJob({
    name: `inline data with ${LIMITS.MAX_FEATURES + 1} features > MAX_FEATURES`,
    payload: { model, data: { features: [Array(LIMITS.MAX_FEATURES + 1).fill(1)], labels: [0] } },
    status: 400,
    field: 'data.features[0]',
  }),
  postJob({ name: 'datasetId ../x', payload: job({ datasetId: '../x' }), status: 400, field: 'datasetId', message: /not a dataset id/ }),
  postJob({ name: 'datasetId ..%2F..%2Fetc', payload: job({ datasetId: '..%2F..%2Fetc' }), status: 400, field: 'datasetId' }),
  postJob({ name: 'datasetId builtin:../../etc', payload: job({ datasetId: 'builtin:../../etc' }), status: 400, field: 'datasetId' }),
  postJob({ name: 'datasetId with NUL', payload: job({ datasetId: 'a\u0000b' }), status: 400, field: 'datasetId' }),
  postJob({ name: 'datasetId of 129 characters', payload: job({ datasetId: long(129) }), status: 400, field: 'datasetId' }),
  postJob({ name: 'datasetId empty', payload: job({ datasetId: '' }), status: 400, field: 'datasetId' }),
  postJob({ name: 'datasetId unknown', payload: job({ datasetId: 'ds_unknown' }), status: 404, field: 'datasetId', message: /no dataset ds_unknown/ }),
  postJob({ name: 'both datasetId and data', payload: job({ data: rows2 }), status: 400, field: 'datasetId', message: /exactly one/ }),
  postJob({ name: 'neither datasetId nor data', payload: { model }, status: 400, field: 'datasetId', message: /exactly one/ }),
  // the server's configured limits
  postJob({ name: `hidden [${LIMITS.MAX_UNITS + 1}] > MAX_UNITS`, payload: withModel({ hidden: [LIMITS.MAX_UNITS + 1] }), status: 400, field: 'model.hidden[0]', message: /MAX_UNITS/ }),
  postJob({ name: `${LIMITS.MAX_LAYERS + 1} layers > MAX_LAYERS`, payload: withModel({ hidden: Array(LIMITS.MAX_LAYERS + 1).fill(2) }), status: 400, field: 'model.hidden', message: /MAX_LAYERS/ }),
  postJob({ name: `epochs ${LIMITS.MAX_EPOCHS + 1} > MAX_EPOCHS`, payload: withTraining({ epochs: LIMITS.MAX_EPOCHS + 1 }), status: 400, field: 'training.epochs', message: /MAX_EPOCHS/ }),
  postJob({ name: `batchSize ${LIMITS.MAX_BATCH_SIZE + 1} > MAX_BATCH_SIZE`, payload: withTraining({ batchSize: LIMITS.MAX_BATCH_SIZE + 1 }), status: 400, field: 'training.batchSize', message: /MAX_BATCH_SIZE/ }),
  postJob({ name: 'parameters > MAX_PARAMETERS', payload: withModel({ hidden: [64, 64] }), status: 400, field: 'model.hidden', message: /MAX_PARAMETERS/ }),
  // the schema's hard caps
  postJob({ name: '33 layers (schema cap)', payload: withModel({ hidden: Array(33).fill(1) }), status: 400, field: 'model.hidden' }),
  postJob({ name: '4097 units (schema cap)', payload: withModel({ hidden: [4097] }), status: 400, field: 'model.hidden[0]' }),
  postJob({ name: 'epochs 10001 (schema cap)', payload: withTraining({ epochs: 10_001 }), status: 400, field: 'training.epochs' }),
  postJob({ name: 'Idempotency-Key with spaces', headers: { 'idempotency-key': 'has spaces' }, payload: job(), status: 400, field: 'Idempotency-Key' }),
  postJob({ name: 'Idempotency-Key of 201 characters', headers: { 'idempotency-key': long(201) }, payload: job(), status: 400, field: 'Idempotency-Key' }),
  postJob({
    name: 'oversized body > BODY_LIMIT_BYTES',
    payload: { model, data: { features: Array.from({ length: 5000 }, () => [1.25, 2.5]), labels: Array(5000).fill(0) } },
    status: 413,
    message: /BODY_LIMIT_BYTES/,
  }),
];

// ---------------------------------------------------------------------------------------------------------
// GET / DELETE /v1/training-jobs/:jobId, GET .../events

const jobCases: Case[] = [
  ...idCases('GET /v1/training-jobs/:jobId', 'GET', (id) => `/v1/training-jobs/${id}`, 'jobId'),
  ...idCases('DELETE /v1/training-jobs/:jobId', 'DELETE', (id) => `/v1/training-jobs/${id}`, 'jobId'),
  ...idCases('GET /v1/training-jobs/:jobId/events', 'GET', (id) => `/v1/training-jobs/${id}/events`, 'jobId', { headers: SSE }),
  ...['job_unknown', 'meta', 'wait', 'events', 'id', 'stalled-check'].flatMap((id): Case[] => [
    { name: `GET job ${id} (unknown; BullMQ key names included)`, url: `/v1/training-jobs/${id}`, status: 404, field: 'jobId', message: /no training job/ },
    { name: `DELETE job ${id} (unknown)`, method: 'DELETE', url: `/v1/training-jobs/${id}`, status: 404, field: 'jobId', message: /no training job/ },
    { name: `events of job ${id} (unknown)`, url: `/v1/training-jobs/${id}/events`, headers: SSE, status: 404, field: 'jobId', message: /no training job/ },
  ]),
  { name: 'DELETE job: malformed JSON body', method: 'DELETE', url: '/v1/training-jobs/job_unknown', ...raw('{'), status: 400, message: /not valid JSON/ },
  { name: 'DELETE job: application/xml body', method: 'DELETE', url: '/v1/training-jobs/job_unknown', headers: { 'content-type': 'application/xml' }, payload: '<a/>', status: 415, message: /Unsupported Media Type/ },
];

// ---------------------------------------------------------------------------------------------------------
// GET /v1/models, /v1/models/:modelId, checkpoints and artifacts

const modelCases: Case[] = [
  ...['0', '-1', 'abc', '10000', '1e3', 'NaN', 'Infinity', '1.5', ''].map((v): Case => ({
    name: `GET /v1/models?limit=${v}`,
    url: `/v1/models?limit=${v}`,
    status: 400,
    field: 'limit',
  })),
  { name: 'GET /v1/models?limit repeated', url: '/v1/models?limit=1&limit=2', status: 400, field: 'limit' },
  { name: 'GET /v1/models?colour=red', url: '/v1/models?colour=red', status: 400, field: 'colour' },
  { name: 'GET /v1/models?__proto__=x', url: '/v1/models?__proto__=x', status: 400, field: '__proto__' },
  { name: 'GET /v1/models with a malformed JSON body and a bad limit', url: '/v1/models?limit=0', ...raw('{'), status: 400, field: 'limit' },
  ...idCases('GET /v1/models/:modelId', 'GET', (id) => `/v1/models/${id}`, 'modelId'),
  { name: 'GET /v1/models/:modelId unknown', url: '/v1/models/mdl_unknown', status: 404, field: 'modelId', message: /no model mdl_unknown/ },
];

for (const suffix of ['', '/model.json', '/weights.bin', '/model.onnx']) {
  const route = `GET /v1/models/:modelId/checkpoints/:epoch${suffix}`;
  modelCases.push(
    ...idCases(route, 'GET', (id) => `/v1/models/${id}/checkpoints/1${suffix}`, 'modelId'),
    ...idCases(`${route} (epoch)`, 'GET', (id) => `/v1/models/${MODEL}/checkpoints/${id}${suffix}`, 'epoch').filter(
      (c) => c.status !== 404, // a 101-character epoch is no valid epoch: covered below
    ),
    ...['0', '-1', '1.5', '1e3', '0001', '9999999999', '_x', 'a.b', long(101)].map((epoch): Case => ({
      name: `${route}: epoch ${epoch.length > 20 ? `of ${epoch.length} characters` : epoch}`,
      url: `/v1/models/${MODEL}/checkpoints/${epoch}${suffix}`,
      status: 400,
      field: 'epoch',
      message: /pattern/,
    })),
    { name: `${route}: epoch 999999999 (no such checkpoint)`, url: `/v1/models/${MODEL}/checkpoints/999999999${suffix}`, status: 404, field: 'epoch', message: /no checkpoint for epoch 999999999/ },
    { name: `${route}: epoch 2 (no such checkpoint)`, url: `/v1/models/${MODEL}/checkpoints/2${suffix}`, status: 404, field: 'epoch' },
    // A name is an alias (latest and best are built in): names that look like numbers are names too.
    ...['LATEST', 'NaN', 'Infinity'].map((name): Case => ({
      name: `${route}: ${name} (no such alias)`,
      url: `/v1/models/${MODEL}/checkpoints/${name}${suffix}`,
      status: 404,
      field: 'epoch',
      message: new RegExp(`has no alias "${name}"`),
    })),
    { name: `${route}: unknown model, latest`, url: `/v1/models/mdl_unknown/checkpoints/latest${suffix}`, status: 404, field: 'modelId', message: /no model mdl_unknown/ },
    { name: `${route}: unknown model, epoch 1`, url: `/v1/models/mdl_unknown/checkpoints/1${suffix}`, status: 404, field: 'modelId', message: /no model mdl_unknown/ },
  );
}
modelCases.push(
  { name: 'GET checkpoint ?include=weights', url: `/v1/models/${MODEL}/checkpoints/1?include=weights`, status: 400, field: 'include', message: /must be one of "bn"/ },
  { name: 'GET checkpoint ?colour=red', url: `/v1/models/${MODEL}/checkpoints/1?colour=red`, status: 400, field: 'colour' },
);

// Lists, history and deletion: bad queries and ids (never a deletion of the fixtures)
const pageCases = (route: string, url: string): Case[] => [
  ...['0', '-1', 'abc', '1001', '1e3', ''].map((v): Case => ({ name: `${route}?limit=${v}`, url: `${url}?limit=${v}`, status: 400, field: 'limit' })),
  { name: `${route}?cursor=!`, url: `${url}?cursor=%21`, status: 400, field: 'cursor' },
  { name: `${route}?cursor not one of ours`, url: `${url}?cursor=bm90LWEtY3Vyc29y`, status: 400, field: 'cursor', message: /cursor is not one this server gave out/ },
  { name: `${route}?colour=red`, url: `${url}?colour=red`, status: 400, field: 'colour' },
];
modelCases.push(
  ...pageCases('GET /v1/models', '/v1/models'),
  ...pageCases('GET /v1/datasets', '/v1/datasets'),
  ...pageCases('GET /v1/training-jobs', '/v1/training-jobs'),
  { name: 'GET /v1/training-jobs?status=done', url: '/v1/training-jobs?status=done', status: 400, field: 'status', message: /must be one of/ },
  ...idCases('GET /v1/models/:modelId/history', 'GET', (id) => `/v1/models/${id}/history`, 'modelId'),
  { name: 'GET /v1/models/:modelId/history unknown', url: '/v1/models/mdl_unknown/history', status: 404, field: 'modelId', message: /no model mdl_unknown/ },
  ...idCases('GET /v1/models/:modelId/bn-stats', 'GET', (id) => `/v1/models/${id}/bn-stats`, 'modelId'),
  { name: 'GET /v1/models/:modelId/bn-stats unknown', url: '/v1/models/mdl_unknown/bn-stats', status: 404, field: 'modelId', message: /no model mdl_unknown/ },
  ...['-1', 'abc', '1.5', '1e3', '01', '', '9999999999'].map((v): Case => ({ name: `GET bn-stats?fromEpoch=${v}`, url: `/v1/models/${MODEL}/bn-stats?fromEpoch=${v}`, status: 400, field: 'fromEpoch' })),
  { name: 'GET bn-stats?colour=red', url: `/v1/models/${MODEL}/bn-stats?colour=red`, status: 400, field: 'colour' },
  ...idCases('DELETE /v1/models/:modelId', 'DELETE', (id) => `/v1/models/${id}`, 'modelId'),
  { name: 'DELETE /v1/models/:modelId unknown', method: 'DELETE', url: '/v1/models/mdl_unknown', status: 404, field: 'modelId', message: /no model mdl_unknown/ },
  { name: 'DELETE /v1/datasets/ds_unknown', method: 'DELETE', url: '/v1/datasets/ds_unknown', status: 404, field: 'id', message: /no dataset ds_unknown/ },
  { name: 'DELETE /v1/datasets/builtin:blobs', method: 'DELETE', url: '/v1/datasets/builtin:blobs', status: 400, field: 'id', message: /built in/ },
  { name: 'DELETE /v1/datasets/..%2Fx', method: 'DELETE', url: '/v1/datasets/..%2Fx', status: 400, field: 'id', message: /pattern/ },
);

// ---------------------------------------------------------------------------------------------------------
// POST /v1/models/:modelId/predict

const predictUrl = `/v1/models/${MODEL}/predict`;
const x3 = [0.1, 0.2, 0.3];
const predict = (c: Omit<Case, 'method' | 'url'> & { url?: string }): Case => ({ method: 'POST', url: predictUrl, ...c, name: `predict: ${c.name}` });

const predictCases: Case[] = [
  predict({ name: 'malformed JSON', ...raw('{"x": [1,'), status: 400, message: /not valid JSON/ }),
  predict({ name: 'empty JSON body', ...raw(''), status: 400, message: /empty/ }),
  predict({ name: 'no body, no Content-Type', status: 400, field: 'body', message: /request body must be object/ }),
  predict({ name: 'application/xml', headers: { 'content-type': 'application/xml' }, payload: '<x/>', status: 415, message: /Unsupported Media Type/ }),
  predict({ name: 'text/csv', headers: CSV_CT, payload: '1,2,3\n', status: 415, field: 'Content-Type' }),
  predict({ name: 'text/plain', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify({ x: x3 }), status: 415, field: 'Content-Type' }),
  predict({ name: 'body null', ...raw('null'), status: 400, field: 'body' }),
  predict({ name: 'body an array', ...raw('[0.1,0.2,0.3]'), status: 400, field: 'body' }),
  predict({ name: 'body a number', ...raw('1'), status: 400, field: 'body' }),
  predict({ name: '{} (neither x nor instances)', payload: {}, status: 400, field: 'x', message: /exactly one of x/ }),
  predict({ name: 'both x and instances', payload: { x: x3, instances: [x3] }, status: 400, field: 'x', message: /exactly one of x/ }),
  predict({ name: 'unknown field', payload: { x: x3, y: [1] }, status: 400, field: 'y', message: /not a known field/ }),
  predict({ name: 'x a string', payload: { x: '0.1,0.2,0.3' }, status: 400, field: 'x' }),
  predict({ name: 'x with a string', payload: { x: [0.1, 'a', 0.3] }, status: 400, field: 'x[1]' }),
  predict({ name: 'x with null', payload: { x: [0.1, null, 0.3] }, status: 400, field: 'x[1]' }),
  predict({ name: 'x with "NaN"', payload: { x: ['NaN', 0.2, 0.3] }, status: 400, field: 'x[0]' }),
  predict({ name: 'x with 1e999 (raw JSON)', ...raw('{"x":[0.1,1e999,0.3]}'), status: 400, field: 'x[1]' }),
  predict({ name: 'x with -1e999 (raw JSON)', ...raw('{"x":[-1e999,0.1,0.3]}'), status: 400, field: 'x[0]' }),
  predict({ name: 'instances with 1e999 (raw JSON)', ...raw('{"instances":[[0.1,0.2,0.3],[0.1,0.2,1e999]]}'), status: 400, field: 'instances[1][2]' }),
  predict({ name: 'x with huge finite 1e300', payload: { x: [1e300, 0.2, 0.3] }, status: 400, field: 'x[0]', message: /magnitude/ }),
  predict({ name: 'instances with -1.7e308', payload: { instances: [x3, [0.1, -1.7e308, 0.3]] }, status: 400, field: 'instances[1][1]', message: /magnitude/ }),
  predict({ name: 'x nested', payload: { x: [[0.1, 0.2, 0.3]] }, status: 400, field: 'x[0]' }),
  predict({ name: 'x empty', payload: { x: [] }, status: 400, field: 'x' }),
  predict({ name: 'instances empty', payload: { instances: [] }, status: 400, field: 'instances' }),
  predict({ name: 'instances with an empty row', payload: { instances: [[]] }, status: 400, field: 'instances[0]' }),
  predict({ name: 'instances a flat row', payload: { instances: x3 }, status: 400, field: 'instances[0]' }),
  predict({ name: 'ragged instances', payload: { instances: [x3, [0.1, 0.2]] }, status: 400, field: 'instances[1]', message: /inputDim=3/ }),
  predict({ name: 'x with 2 features (model has 3)', payload: { x: [0.1, 0.2] }, status: 400, field: 'x', message: /has 2 values; the model expects inputDim=3/ }),
  predict({ name: 'x with 4 features (model has 3)', payload: { x: [0.1, 0.2, 0.3, 0.4] }, status: 400, field: 'x', message: /inputDim=3/ }),
  predict({ name: 'x with 10001 values (schema cap)', payload: { x: Array(10_001).fill(0) }, status: 400, field: 'x' }),
  predict({
    name: `${LIMITS.MAX_PREDICT_INSTANCES + 1} instances > MAX_PREDICT_INSTANCES`,
    payload: { instances: Array.from({ length: LIMITS.MAX_PREDICT_INSTANCES + 1 }, () => x3) },
    status: 400,
    field: 'instances',
    message: /MAX_PREDICT_INSTANCES/,
  }),
  predict({ name: '?checkpoint=0', url: `${predictUrl}?checkpoint=0`, payload: { x: x3 }, status: 400, field: 'checkpoint' }),
  predict({ name: '?checkpoint=abc (no such alias)', url: `${predictUrl}?checkpoint=abc`, payload: { x: x3 }, status: 404, field: 'checkpoint', message: /has no alias "abc"/ }),
  predict({ name: '?checkpoint=a.b', url: `${predictUrl}?checkpoint=a.b`, payload: { x: x3 }, status: 400, field: 'checkpoint' }),
  predict({ name: '?checkpoint=-1', url: `${predictUrl}?checkpoint=-1`, payload: { x: x3 }, status: 400, field: 'checkpoint' }),
  predict({ name: '?checkpoint=9999999999', url: `${predictUrl}?checkpoint=9999999999`, payload: { x: x3 }, status: 400, field: 'checkpoint' }),
  predict({ name: '?checkpoint repeated', url: `${predictUrl}?checkpoint=1&checkpoint=1`, payload: { x: x3 }, status: 400, field: 'checkpoint' }),
  predict({ name: '?checkpoint=2 (no such epoch)', url: `${predictUrl}?checkpoint=2`, payload: { x: x3 }, status: 404, field: 'checkpoint', message: /no checkpoint for epoch 2/ }),
  predict({ name: '?checkpoint=999999999 (no such epoch)', url: `${predictUrl}?checkpoint=999999999`, payload: { x: x3 }, status: 404, field: 'checkpoint' }),
  predict({ name: '?explain=yes', url: `${predictUrl}?explain=yes`, payload: { x: x3 }, status: 400, field: 'explain' }),
  predict({ name: '?explain=true with instances', url: `${predictUrl}?explain=true`, payload: { instances: [x3] }, status: 400, field: 'explain' }),
  predict({ name: 'unknown query parameter', url: `${predictUrl}?colour=red`, payload: { x: x3 }, status: 400, field: 'colour' }),
  predict({ name: 'unknown model', url: '/v1/models/mdl_unknown/predict', payload: { x: x3 }, status: 404, field: 'modelId', message: /no model mdl_unknown/ }),
  predict({
    name: 'oversized body > BODY_LIMIT_BYTES',
    payload: { instances: Array.from({ length: 3000 }, () => [1.25, 2.5, 3.75]) },
    status: 413,
    message: /BODY_LIMIT_BYTES/,
  }),
  ...idCases('POST /v1/models/:modelId/predict', 'POST', (id) => `/v1/models/${id}/predict`, 'modelId', { payload: { x: x3 } }).map((c) => ({
    ...c,
    name: `predict: ${c.name}`,
  })),
];

// ---------------------------------------------------------------------------------------------------------
// POST /v1/models/:modelId/evaluate

const evaluateUrl = `/v1/models/${MODEL}/evaluate`;
const evaluate = (c: Omit<Case, 'method' | 'url'> & { url?: string }): Case => ({ method: 'POST', url: evaluateUrl, ...c, name: `evaluate: ${c.name}` });

const evaluateCases: Case[] = [
  evaluate({ name: 'malformed JSON', ...raw('{"datasetId": '), status: 400, message: /not valid JSON/ }),
  evaluate({ name: 'no body, no Content-Type', status: 400, field: 'body' }),
  evaluate({ name: 'text/csv', headers: CSV_CT, payload: 'a,y\n1,0\n', status: 415, field: 'Content-Type' }),
  evaluate({ name: 'multipart/form-data', headers: { 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x--', status: 415, field: 'Content-Type' }),
  evaluate({ name: 'missing datasetId', payload: {}, status: 400, field: 'datasetId', message: /datasetId is required/ }),
  evaluate({ name: 'datasetId a number', payload: { datasetId: 7 }, status: 400, field: 'datasetId' }),
  evaluate({ name: 'datasetId with a traversal', payload: { datasetId: '../etc/passwd' }, status: 400, field: 'datasetId', message: /not a dataset id/ }),
  evaluate({ name: 'datasetId builtin with an unknown option', payload: { datasetId: 'builtin:mnist?scale=big' }, status: 400, field: 'datasetId', message: /not a dataset id/ }),
  evaluate({ name: 'unknown dataset', payload: { datasetId: 'ds_unknown' }, status: 404, field: 'datasetId', message: /no dataset ds_unknown/ }),
  evaluate({ name: 'no test part (builtin:blobs)', payload: { datasetId: 'builtin:blobs' }, status: 400, field: 'split', message: /has no test part/ }),
  evaluate({ name: 'features differ from inputDim', payload: { datasetId: 'builtin:blobs', split: 'train' }, status: 400, field: 'datasetId', message: /inputDim=3/ }),
  evaluate({ name: 'split unknown', payload: { datasetId: 'builtin:blobs', split: 'validation' }, status: 400, field: 'split', message: /must be one of/ }),
  evaluate({ name: 'checkpoint 0', payload: { datasetId: 'builtin:blobs', checkpoint: 0 }, status: 400, field: 'checkpoint' }),
  evaluate({ name: 'checkpoint "1"', payload: { datasetId: 'builtin:blobs', checkpoint: '1' }, status: 400, field: 'checkpoint' }),
  evaluate({ name: 'checkpoint 2 (no such epoch)', payload: { datasetId: 'builtin:blobs', checkpoint: 2 }, status: 404, field: 'checkpoint', message: /no checkpoint for epoch 2/ }),
  evaluate({ name: 'unknown field', payload: { datasetId: 'builtin:blobs', colour: 'red' }, status: 400, field: 'colour', message: /not a known field/ }),
  evaluate({ name: 'unknown model', url: '/v1/models/mdl_unknown/evaluate', payload: { datasetId: 'builtin:blobs' }, status: 404, field: 'modelId', message: /no model mdl_unknown/ }),
  ...idCases('POST /v1/models/:modelId/evaluate', 'POST', (id) => `/v1/models/${id}/evaluate`, 'modelId', { payload: { datasetId: 'builtin:blobs' } }).map((c) => ({
    ...c,
    name: `evaluate: ${c.name}`,
  })),
];

// Aliases: GET, PUT, DELETE /v1/models/:modelId/aliases/:alias

const aliasUrl = (alias: string, model = MODEL) => `/v1/models/${model}/aliases/${alias}`;
const put = (c: Omit<Case, 'method' | 'url'> & { url?: string }): Case => ({ method: 'PUT', url: aliasUrl('prod'), ...c, name: `PUT alias: ${c.name}` });
const aliasCases: Case[] = [
  ...(['GET', 'PUT', 'DELETE'] as const).flatMap((method): Case[] => [
    ...idCases(`${method} /v1/models/:modelId/aliases/:alias`, method, (id) => aliasUrl('prod', id), 'modelId', method === 'PUT' ? { payload: { checkpoint: 1 } } : {}),
    ...['1', '0', '_x', 'a.b', 'a%20b', long(65)].map((alias): Case => ({
      name: `${method} alias ${alias.length > 20 ? `of ${alias.length} characters` : alias}`,
      method,
      url: aliasUrl(alias),
      ...(method === 'PUT' && { payload: { checkpoint: 1 } }),
      status: 400,
      field: 'alias',
      message: /pattern/,
    })),
    {
      name: `${method} alias of an unknown model`,
      method,
      url: aliasUrl('prod', 'mdl_unknown'),
      ...(method === 'PUT' && { payload: { checkpoint: 1 } }),
      status: 404,
      field: 'modelId',
      message: /no model mdl_unknown/,
    },
  ]),
  { name: 'GET alias unknown', url: aliasUrl('nope'), status: 404, field: 'alias', message: /has no alias "nope"/ },
  { name: 'DELETE alias unknown', method: 'DELETE', url: aliasUrl('nope'), status: 404, field: 'alias', message: /has no alias nope/ },
  { name: 'DELETE alias latest (built in)', method: 'DELETE', url: aliasUrl('latest'), status: 400, field: 'alias', message: /latest is built in/ },
  put({ name: 'best (built in)', url: aliasUrl('best'), payload: { checkpoint: 1 }, status: 400, field: 'alias', message: /best is built in/ }),
  put({ name: 'no body', status: 400, field: 'body' }),
  put({ name: 'malformed JSON', ...raw('{"checkpoint": '), status: 400, message: /not valid JSON/ }),
  put({ name: 'text/csv', headers: CSV_CT, payload: 'checkpoint\n1\n', status: 415, field: 'Content-Type' }),
  put({ name: 'missing checkpoint', payload: {}, status: 400, field: 'checkpoint', message: /checkpoint is required/ }),
  put({ name: 'checkpoint 0', payload: { checkpoint: 0 }, status: 400, field: 'checkpoint' }),
  put({ name: 'checkpoint 1.5', payload: { checkpoint: 1.5 }, status: 400, field: 'checkpoint' }),
  put({ name: 'checkpoint "1"', payload: { checkpoint: '1' }, status: 400, field: 'checkpoint' }),
  put({ name: 'checkpoint null', payload: { checkpoint: null }, status: 400, field: 'checkpoint' }),
  put({ name: 'unknown field', payload: { checkpoint: 1, colour: 'red' }, status: 400, field: 'colour', message: /not a known field/ }),
  put({ name: 'checkpoint 2 (never saved)', payload: { checkpoint: 2 }, status: 409, field: 'checkpoint', message: /epoch 2 is not saved \(the newest is 1\)/ }),
  put({ name: 'checkpoint "nope" (no such alias)', payload: { checkpoint: 'nope' }, status: 409, field: 'checkpoint', message: /has no alias "nope"/ }),
];

// The Open Inference Protocol: /v2/models/{model}[/versions/{version}][/ready|/infer]

const inferUrl = `/v2/models/${MODEL}/infer`;
const HL = 'inference-header-content-length';
const oipCase = (c: Omit<Case, 'protocol'>): Case => ({ ...c, protocol: 'oip', name: `v2: ${c.name}` });
const infer = (c: Omit<Case, 'method' | 'url' | 'protocol'> & { url?: string; method?: Case['method'] }): Case => oipCase({ method: 'POST', url: inferUrl, ...c });
/** An infer request with x [rows, 3] and what `extra` adds to the input. */
const xInput = (extra: object = { data: x3 }, shape = [1, 3]) => ({ inputs: [{ name: 'x', shape, datatype: 'FP32', ...extra }] });
const f32 = (...v: number[]) => Buffer.from(new Float32Array(v).buffer);
/** JSON + tensor bytes with Inference-Header-Content-Length, unless `length` overrides it. */
const binaryBody = (json: object, tensor: Buffer, length?: string) => {
  const text = JSON.stringify(json);
  return { headers: { [HL]: length ?? String(Buffer.byteLength(text)) }, payload: Buffer.concat([Buffer.from(text), tensor]) };
};
const binInput = (size: number) => xInput({ parameters: { binary_data_size: size } });

const v2Cases: Case[] = [
  infer({ name: 'malformed JSON', ...raw('{"inputs": ['), status: 400, message: /not valid JSON/ }),
  infer({ name: 'trailing garbage after JSON', ...raw(`${JSON.stringify(xInput())} x`), status: 400, message: /not valid JSON/ }),
  infer({ name: 'empty JSON body', ...raw(''), status: 400, message: /empty/ }),
  infer({ name: '__proto__ key (prototype poisoning)', ...raw('{"inputs":[],"__proto__":{"x":1}}'), status: 400, message: /not valid JSON/ }),
  infer({ name: 'constructor.prototype key', ...raw('{"inputs":[],"constructor":{"prototype":{"x":1}}}'), status: 400, message: /not valid JSON/ }),
  infer({ name: 'application/xml', headers: { 'content-type': 'application/xml' }, payload: '<a/>', status: 415, message: /Content-Type application\/xml is not supported here/ }),
  infer({ name: 'text/plain', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify(xInput()), status: 415, message: /Content-Type text\/plain is not supported/ }),
  infer({ name: 'multipart/form-data', headers: { 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x--', status: 415, message: /not supported/ }),
  infer({ name: 'no body and no Content-Type', status: 400, message: /request body/ }),
  infer({ name: 'body null', ...raw('null'), status: 400, message: /request body must be object/ }),
  infer({ name: 'body an array', ...raw('[[1,2,3]]'), status: 400, message: /request body must be object/ }),
  infer({ name: 'body a string', ...raw('"x"'), status: 400, message: /request body must be object/ }),
  infer({ name: 'deeply nested arrays', ...raw('['.repeat(5000) + ']'.repeat(5000)), status: 400, message: /request body must be object/ }),
  infer({ name: 'deeply nested data', ...raw(`{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":${'['.repeat(5000)}${']'.repeat(5000)}}]}`), status: 400, message: /nested deeper than the shape allows/ }),
  infer({ name: 'missing inputs', payload: {}, status: 400, message: /inputs is required/ }),
  infer({ name: 'inputs empty', payload: { inputs: [] }, status: 400, message: /inputs must NOT have fewer than 1 items/ }),
  infer({ name: 'inputs an object', payload: { inputs: { x: x3 } }, status: 400, message: /inputs must be array/ }),
  infer({ name: 'unknown top-level field', payload: { ...xInput(), colour: 'red' }, status: 400, message: /colour is not a known field/ }),
  infer({ name: 'unknown request parameter (sequence_id)', payload: { ...xInput(), parameters: { sequence_id: 1 } }, status: 400, message: /parameters\.sequence_id is not a known field/ }),
  infer({ name: 'binary_data_output a string', payload: { ...xInput(), parameters: { binary_data_output: 'yes' } }, status: 400, message: /binary_data_output must be boolean/ }),
  infer({ name: 'shared-memory input parameter', payload: xInput({ parameters: { shared_memory_region: 'r' } }), status: 400, message: /shared_memory_region is not a known field/ }),
  infer({ name: 'input without a name', payload: { inputs: [{ shape: [1, 3], datatype: 'FP32', data: x3 }] }, status: 400, message: /inputs\[0\]\.name is required/ }),
  infer({ name: 'input without a shape', payload: { inputs: [{ name: 'x', datatype: 'FP32', data: x3 }] }, status: 400, message: /inputs\[0\]\.shape is required/ }),
  infer({ name: 'input without a datatype', payload: { inputs: [{ name: 'x', shape: [1, 3], data: x3 }] }, status: 400, message: /inputs\[0\]\.datatype is required/ }),
  infer({ name: 'negative dimension', payload: xInput({ data: x3 }, [-1, 3]), status: 400, message: /inputs\[0\]\.shape\[0\] must be >= 0/ }),
  infer({ name: 'fractional dimension', payload: xInput({ data: x3 }, [1.5, 3]), status: 400, message: /inputs\[0\]\.shape\[0\] must be integer/ }),
  infer({ name: 'nine dimensions', payload: xInput({ data: x3 }, [1, 1, 1, 1, 1, 1, 1, 1, 3]), status: 400, message: /shape must NOT have more than 8 items/ }),
  infer({ name: 'shape of a billion rows with 3 values', payload: xInput({ data: x3 }, [1e9, 3]), status: 400, message: /has 3000000000 elements, data has 3/ }),
  infer({ name: 'shape of 2^53 x 2^53 elements', payload: xInput({ data: x3 }, [2 ** 53, 2 ** 53]), status: 400, message: /elements, data has 3/ }),
  infer({ name: 'unknown datatype FLOAT', payload: xInput({ datatype: 'FLOAT', data: x3 }), status: 400, message: /datatype "FLOAT" is not a datatype of the protocol/ }),
  infer({ name: 'lower-case fp32', payload: xInput({ datatype: 'fp32', data: x3 }), status: 400, message: /datatype "fp32" is not a datatype of the protocol/ }),
  infer({ name: 'datatype INT64', payload: xInput({ datatype: 'INT64', data: [1, 2, 3] }), status: 400, message: /datatype INT64 is not supported; send FP32 or FP64/ }),
  infer({ name: 'datatype BYTES', payload: xInput({ datatype: 'BYTES', data: ['a', 'b', 'c'] }), status: 400, message: /datatype BYTES is not supported/ }),
  infer({ name: 'datatype a number', payload: xInput({ datatype: 32, data: x3 }), status: 400, message: /inputs\[0\]\.datatype must be string/ }),
  infer({ name: 'both data and binary_data_size', ...binaryBody(xInput({ data: x3, parameters: { binary_data_size: 12 } }), f32(1, 2, 3)), status: 400, message: /has both data and parameters\.binary_data_size/ }),
  infer({ name: 'neither data nor binary_data_size', payload: xInput({}), status: 400, message: /needs data, or parameters\.binary_data_size/ }),
  infer({ name: 'data not an array', payload: xInput({ data: 5 }), status: 400, message: /inputs\[0\]\.data must be array/ }),
  infer({ name: 'a string in data', payload: xInput({ data: [0.1, 'NaN', 0.3] }), status: 400, message: /inputs\[0\]\.data\[1\] must be a number, got string/ }),
  infer({ name: 'null in data', payload: xInput({ data: [0.1, null, 0.3] }), status: 400, message: /inputs\[0\]\.data\[1\] must be a number, got null/ }),
  infer({ name: 'true in data', payload: xInput({ data: [true, 0.2, 0.3] }), status: 400, message: /inputs\[0\]\.data\[0\] must be a number, got boolean/ }),
  infer({ name: 'an object in data', payload: xInput({ data: [{}, 0.2, 0.3] }), status: 400, message: /inputs\[0\]\.data\[0\] must be a number, got object/ }),
  infer({ name: '1e999 in data (raw JSON)', ...raw('{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[0.1,1e999,0.3]}]}'), status: 400, message: /x\[1\]: expected a finite number/ }),
  infer({ name: 'huge finite 1e300 in data', payload: xInput({ data: [1e300, 0.2, 0.3] }), status: 400, message: /x\[0\]: 1e\+300 is beyond the supported magnitude/ }),
  infer({ name: 'NaN in binary FP32', ...binaryBody(binInput(12), f32(0.1, NaN, 0.3)), status: 400, message: /x\[1\]: expected a finite number/ }),
  infer({ name: '-Infinity in binary FP32', ...binaryBody(binInput(12), f32(0.1, 0.2, -Infinity)), status: 400, message: /x\[2\]: expected a finite number/ }),
  infer({ name: 'unexpected input name', payload: { inputs: [{ name: 'input0', shape: [1, 3], datatype: 'FP32', data: x3 }] }, status: 400, message: /unexpected inference input 'input0' for model 'mdl_hostile': its only input is 'x' \[-1, 3\]/ }),
  infer({ name: 'input x twice', payload: { inputs: [...xInput().inputs, ...xInput().inputs] }, status: 400, message: /input 'x' is given 2 times/ }),
  infer({ name: 'x with 2 features (model has 3)', payload: xInput({ data: [0.1, 0.2] }, [1, 2]), status: 400, message: /unexpected shape for input 'x' of model 'mdl_hostile': expected \[-1, 3\], got \[1, 2\]/ }),
  infer({ name: 'x without the batch dimension', payload: xInput({ data: x3 }, [3]), status: 400, message: /expected \[-1, 3\], got \[3\]/ }),
  infer({ name: 'x with no rows', payload: xInput({ data: [] }, [0, 3]), status: 400, message: /input 'x' has no rows/ }),
  infer({
    name: `${LIMITS.MAX_PREDICT_INSTANCES + 1} rows > MAX_PREDICT_INSTANCES`,
    payload: xInput({ data: Array(3 * (LIMITS.MAX_PREDICT_INSTANCES + 1)).fill(0.5) }, [LIMITS.MAX_PREDICT_INSTANCES + 1, 3]),
    status: 400,
    message: /has 11 rows, more than MAX_PREDICT_INSTANCES=10/,
  }),
  infer({ name: 'unexpected output name', payload: { ...xInput(), outputs: [{ name: 'output0' }] }, status: 400, message: /unexpected inference output 'output0' for model 'mdl_hostile': its only output is 'y'/ }),
  infer({ name: 'output y twice', payload: { ...xInput(), outputs: [{ name: 'y' }, { name: 'y' }] }, status: 400, message: /output 'y' is requested 2 times/ }),
  infer({ name: 'classification 0', payload: { ...xInput(), outputs: [{ name: 'y', parameters: { classification: 0 } }] }, status: 400, message: /classification must be >= 1/ }),
  infer({ name: 'binary_data a string', payload: { ...xInput(), outputs: [{ name: 'y', parameters: { binary_data: 'true' } }] }, status: 400, message: /binary_data must be boolean/ }),
  infer({ name: 'id a number', payload: { ...xInput(), id: 42 }, status: 400, message: /id must be string/ }),
  infer({ name: 'id of 257 characters', payload: { ...xInput(), id: long(257) }, status: 400, message: /id must NOT have more than 256 characters/ }),
  infer({ name: 'model_name of another model', payload: { ...xInput(), model_name: 'other' }, status: 400, message: /model_name "other" in the body is not the model of the path, mdl_hostile/ }),
  infer({ name: 'model_version not the one served', payload: { ...xInput(), model_version: '7' }, status: 400, message: /model_version "7" in the body is not the version served, 1/ }),
  infer({ name: 'Inference-Header-Content-Length past the body', ...binaryBody(binInput(12), f32(0.1, 0.2, 0.3), '100000'), status: 400, message: /Inference-Header-Content-Length is 100000, past the end of the body/ }),
  infer({ name: 'Inference-Header-Content-Length not a number', ...binaryBody(binInput(12), f32(0.1, 0.2, 0.3), '12abc'), status: 400, message: /must be one whole number of bytes/ }),
  infer({ name: 'Inference-Header-Content-Length negative', ...binaryBody(binInput(12), f32(0.1, 0.2, 0.3), '-5'), status: 400, message: /must be one whole number of bytes/ }),
  infer({ name: 'Inference-Header-Content-Length 0', ...binaryBody(binInput(12), f32(0.1, 0.2, 0.3), '0'), status: 400, message: /is 0: the body must start with the JSON/ }),
  infer({ name: 'Inference-Header-Content-Length cutting the JSON', ...binaryBody(binInput(12), f32(0.1, 0.2, 0.3), '20'), status: 400, message: /not valid JSON/ }),
  infer({ name: 'binary_data_size without the header', headers: JSON_CT, payload: JSON.stringify(binInput(12)), status: 400, message: /the request has no binary data: send Inference-Header-Content-Length/ }),
  infer({ name: 'binary_data_size not the shape\'s', ...binaryBody(binInput(8), f32(0.1, 0.2)), status: 400, message: /binary_data_size is 8, but shape \[1, 3\] of FP32 takes 12 bytes/ }),
  infer({ name: 'binary_data_size negative', ...binaryBody(binInput(-12), f32(0.1, 0.2, 0.3)), status: 400, message: /binary_data_size must be >= 0/ }),
  infer({ name: 'fewer bytes than binary_data_size', ...binaryBody(binInput(12), f32(0.1, 0.2)), status: 400, message: /needs 12 bytes of binary data, but only 8 remain/ }),
  infer({ name: 'bytes after the inputs\' binary data', ...binaryBody(binInput(12), f32(0.1, 0.2, 0.3, 0.4)), status: 400, message: /the body has 4 bytes after the binary data of the inputs/ }),
  infer({ name: 'binary data and no binary input', ...binaryBody(xInput(), f32(0.1)), status: 400, message: /the body has 4 bytes after the binary data of the inputs \(their binary_data_size add up to 0\)/ }),
  infer({ name: 'Content-Encoding br', headers: { ...JSON_CT, 'content-encoding': 'br' }, payload: JSON.stringify(xInput()), status: 415, message: /Content-Encoding br is not supported; send identity, gzip or deflate/ }),
  infer({ name: 'Content-Encoding gzip, body not gzip', headers: { ...JSON_CT, 'content-encoding': 'gzip' }, payload: JSON.stringify(xInput()), status: 400, message: /not valid gzip data/ }),
  infer({
    name: 'gzip bomb: decoded beyond BODY_LIMIT_BYTES',
    headers: { ...JSON_CT, 'content-encoding': 'gzip' },
    payload: gzipSync(Buffer.alloc(LIMITS.BODY_LIMIT_BYTES * 64, 0x20)),
    status: 413,
    message: /decoded request body is larger than 32768 bytes \(BODY_LIMIT_BYTES\)/,
  }),
  infer({ name: 'oversized body > BODY_LIMIT_BYTES', payload: xInput({ data: Array(9000).fill(1.25) }, [3000, 3]), status: 413, message: /BODY_LIMIT_BYTES/ }),
  infer({ name: 'unknown model', url: '/v2/models/mdl_unknown/infer', payload: xInput(), status: 404, message: /no model mdl_unknown/ }),
  infer({ name: 'GET on infer (no such route)', method: 'GET', status: 404, message: /no route GET \/v2\/models\/mdl_hostile\/infer/ }),
  ...['0', '-1', '9999999999', '1.5', '_x', 'a.b'].map((v) =>
    infer({ name: `version ${v}`, url: `/v2/models/${MODEL}/versions/${v}/infer`, payload: xInput(), status: 400, message: /params version must match pattern/ }),
  ),
  infer({ name: 'version abc (no such alias)', url: `/v2/models/${MODEL}/versions/abc/infer`, payload: xInput(), status: 404, message: /has no alias "abc"/ }),
  infer({ name: 'version 2 (no such epoch)', url: `/v2/models/${MODEL}/versions/2/infer`, payload: xInput(), status: 404, message: /no checkpoint for epoch 2/ }),
  ...idCases('POST /v2/models/:model/infer', 'POST', (id) => `/v2/models/${id}/infer`, 'model', { payload: xInput() }).map((c) => oipCase({ ...c, name: `infer: ${c.name}` })),
  // Metadata and readiness
  oipCase({ name: 'metadata of an unknown model', url: '/v2/models/mdl_unknown', status: 404, message: /no model mdl_unknown/ }),
  oipCase({ name: 'metadata of version 2 (no such epoch)', url: `/v2/models/${MODEL}/versions/2`, status: 404, message: /has no version 2/ }),
  oipCase({ name: 'metadata of version a.b', url: `/v2/models/${MODEL}/versions/a.b`, status: 400, message: /params version must match pattern/ }),
  oipCase({ name: 'metadata of version abc (no such alias)', url: `/v2/models/${MODEL}/versions/abc`, status: 404, message: /has no version abc/ }),
  oipCase({ name: 'POST on metadata (no such route)', method: 'POST', url: `/v2/models/${MODEL}`, headers: JSON_CT, payload: '{}', status: 404, message: /no route POST/ }),
  oipCase({ name: 'ready of an unknown model', url: '/v2/models/mdl_unknown/ready', status: 404, message: /no model mdl_unknown/ }),
  oipCase({ name: 'ready of version 2 (no such epoch)', url: `/v2/models/${MODEL}/versions/2/ready`, status: 404, message: /no checkpoint for epoch 2/ }),
  oipCase({ name: 'ready of version 0', url: `/v2/models/${MODEL}/versions/0/ready`, status: 400, message: /params version must match pattern/ }),
  oipCase({ name: 'POST on health/live (no such route)', method: 'POST', url: '/v2/health/live', status: 404, message: /no route POST \/v2\/health\/live/ }),
  ...idCases('GET /v2/models/:model', 'GET', (id) => `/v2/models/${id}`, 'model').map((c) => oipCase({ ...c, name: `metadata: ${c.name}` })),
  ...idCases('GET /v2/models/:model/versions/:version', 'GET', (id) => `/v2/models/${id}/versions/1`, 'model').map((c) => oipCase({ ...c, name: `version metadata: ${c.name}` })),
  ...idCases('GET /v2/models/:model/ready', 'GET', (id) => `/v2/models/${id}/ready`, 'model').map((c) => oipCase({ ...c, name: `ready: ${c.name}` })),
  ...idCases('GET /v2/models/:model/versions/:version/ready', 'GET', (id) => `/v2/models/${id}/versions/1/ready`, 'model').map((c) => oipCase({ ...c, name: `version ready: ${c.name}` })),
  ...idCases('POST /v2/models/:model/versions/:version/infer', 'POST', (id) => `/v2/models/${id}/versions/1/infer`, 'model', { payload: xInput() }).map((c) => oipCase({ ...c, name: `version infer: ${c.name}` })),
];

// ---------------------------------------------------------------------------------------------------------

function checkErrorShape(res: { statusCode: number; headers: Record<string, unknown>; body: string }, c: Case): void {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    assert.fail(`${c.name}: the answer is not JSON: ${res.body.slice(0, 200)}`);
  }
  const detail = `${c.name}: ${res.statusCode} ${res.body.slice(0, 400)}`;
  assert.equal(res.statusCode, c.status, detail);
  assert.match(String(res.headers['content-type']), /^application\/json/, detail);
  // Errors the router raises before any hook runs (bad %-escape, 414) included.
  assert.match(String(res.headers['x-request-id']), /^[\w.:-]+$/, `${detail}: X-Request-Id`);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', `${detail}: security headers`);
  if (c.protocol === 'oip') {
    // The Open Inference Protocol's error object: {"error": "<message>"} and nothing else.
    assert.deepEqual(Object.keys(body), ['error'], detail);
    assert.equal(typeof body.error, 'string', detail);
    assert.ok(c.message, `${c.name}: an oip case names its message`);
    assert.match(body.error as string, c.message, detail);
    assert.ok((body.error as string).length < 1000, `${detail}: message of ${(body.error as string).length} characters`);
    return;
  }
  assert.equal(body.statusCode, c.status, detail);
  assert.equal(typeof body.error, 'string', detail);
  assert.ok((body.error as string).length > 0, detail);
  assert.equal(typeof body.message, 'string', detail);
  assert.ok((body.message as string).length > 5, detail);
  const extra = Object.keys(body).filter((k) => !['statusCode', 'error', 'message', 'field', 'errors'].includes(k));
  assert.deepEqual(extra, [], `${detail}: only statusCode, error, message, field and errors`);
  if (body.field !== undefined) {
    assert.equal(typeof body.field, 'string', detail);
    // errors lists every field at fault, the first being field and message; bounded whatever the input.
    const errors = body.errors as { field: string; message: string }[];
    assert.ok(Array.isArray(errors) && errors.length >= 1 && errors.length <= 60, `${detail}: errors`);
    assert.deepEqual(errors[0], { field: body.field, message: body.message }, `${detail}: errors[0]`);
  } else {
    assert.equal(body.errors, undefined, detail);
  }
  const message = body.message as string;
  if (c.field instanceof RegExp) assert.match(String(body.field), c.field, detail);
  else if (c.field !== undefined) assert.equal(body.field, c.field, detail);
  if (c.message) assert.match(message, c.message, detail);
  else if (typeof c.field === 'string') assert.ok(message.includes(c.field), `${detail}: the message names ${c.field}`);
  else assert.fail(`${c.name}: the case names neither a field nor a message`);
  // Never an echo of an unbounded input.
  assert.ok(message.length < 1000, `${detail}: message of ${message.length} characters`);
}

// Experiments: bodies rejected before any variant is queued, bad ids and queries
const postExp = (c: Omit<Case, 'method' | 'url'>): Case => ({ method: 'POST', url: '/v1/experiments', ...c });
const expBase = { datasetId: 'builtin:blobs', base: { model: { hidden: [4], task: 'binary' } } };
const experimentCases: Case[] = [
  postExp({ name: 'malformed JSON', ...raw('{"variants": ['), status: 400, message: /not valid JSON/ }),
  postExp({ name: 'body an array', ...raw('[]'), status: 400, field: 'body' }),
  postExp({ name: 'no variants', payload: { ...expBase, variants: [] }, status: 400, field: 'variants' }),
  postExp({ name: '17 variants', payload: { ...expBase, variants: Array.from({ length: 17 }, (_, i) => ({ name: `v${i}` })) }, status: 400, field: 'variants' }),
  postExp({ name: 'a variant name with a slash', payload: { ...expBase, variants: [{ name: 'a/b' }] }, status: 400, field: 'variants[0].name' }),
  postExp({ name: 'duplicate variant names', payload: { ...expBase, variants: [{ name: 'a' }, { name: 'a' }] }, status: 400, field: 'variants[1].name' }),
  postExp({ name: 'a bad learning rate in a variant', payload: { ...expBase, variants: [{ name: 'a', training: { learningRate: -1 } }] }, status: 400, field: 'variants[0].training.learningRate' }),
  postExp({ name: 'an unknown variant field', payload: { ...expBase, variants: [{ name: 'a', colour: 'red' }] }, status: 400, field: 'variants[0].colour' }),
  postExp({ name: 'a variant seed', payload: { ...expBase, variants: [{ name: 'a', training: { seed: 1 } }] }, status: 400, field: 'variants[0].training.seed' }),
  postExp({ name: 'a scale on a dataset without one', payload: { ...expBase, variants: [{ name: 'a', dataset: { scale: 'raw' } }] }, status: 400, field: 'variants[0].dataset.scale' }),
  postExp({ name: 'an unknown template', payload: { template: 'bn-everything', datasetId: 'builtin:mnist' }, status: 400, field: 'template' }),
  postExp({ name: 'an unknown dataset', payload: { ...expBase, datasetId: 'ds_unknown', variants: [{ name: 'a' }] }, status: 404, field: 'datasetId', message: /no dataset ds_unknown/ }),
  ...pageCases('GET /v1/experiments', '/v1/experiments'),
  ...idCases('GET /v1/experiments/:experimentId', 'GET', (id) => `/v1/experiments/${id}`, 'experimentId'),
  ...idCases('DELETE /v1/experiments/:experimentId', 'DELETE', (id) => `/v1/experiments/${id}`, 'experimentId'),
  ...idCases('GET /v1/experiments/:experimentId/events', 'GET', (id) => `/v1/experiments/${id}/events`, 'experimentId', { headers: SSE }),
  ...idCases('GET /v1/experiments/:experimentId/report', 'GET', (id) => `/v1/experiments/${id}/report`, 'experimentId'),
  ...idCases('GET /v1/experiments/:experimentId/charts/loss.svg', 'GET', (id) => `/v1/experiments/${id}/charts/loss.svg`, 'experimentId'),
  ...['GET', 'DELETE'].map((method): Case => ({ name: `${method} experiment unknown`, method: method as Case['method'], url: '/v1/experiments/exp_unknown', status: 404, field: 'experimentId', message: /no experiment exp_unknown/ })),
  { name: 'events of an unknown experiment', url: '/v1/experiments/exp_unknown/events', headers: SSE, status: 404, field: 'experimentId', message: /no experiment/ },
  { name: 'report of an unknown experiment', url: '/v1/experiments/exp_unknown/report', status: 404, field: 'experimentId', message: /no experiment/ },
  { name: 'report ?format=pdf', url: '/v1/experiments/exp_unknown/report?format=pdf', status: 400, field: 'format' },
  { name: 'an unknown chart', url: '/v1/experiments/exp_unknown/charts/pie.svg', status: 400, field: 'chart' },
];

const ALL: [string, Case[]][] = [
  ['POST /v1/datasets (JSON)', datasetJsonCases],
  ['POST /v1/datasets (CSV)', datasetCsvCases],
  ['GET /v1/datasets/:id', datasetGetCases],
  ['POST /v1/training-jobs', trainingCases],
  ['/v1/training-jobs/:jobId (GET, DELETE, events)', jobCases],
  ['/v1/models (list, detail, checkpoints, artifacts)', modelCases],
  ['POST /v1/models/:modelId/predict', predictCases],
  ['POST /v1/models/:modelId/evaluate', evaluateCases],
  ['/v1/models/:modelId/aliases/:alias (GET, PUT, DELETE)', aliasCases],
  ['/v2/models/{model}[/versions/{version}][/ready|/infer] (Open Inference Protocol)', v2Cases],
  ['/v1/experiments (POST, list, GET, DELETE, events, report, charts)', experimentCases],
];

for (const [group, cases] of ALL) {
  describe(group, () => {
    for (const c of cases) {
      test(c.name, async () => {
        const opts: InjectOptions = { method: c.method ?? 'GET', url: typeof c.url === 'function' ? c.url() : c.url };
        if (c.headers) opts.headers = c.headers;
        if (c.payload !== undefined) opts.payload = c.payload as InjectOptions['payload'];
        const res = await env.app.inject(opts);
        checkErrorShape(res, c);
        const health = await env.app.inject({ url: '/healthz' });
        assert.equal(health.statusCode, 200, `${c.name}: /healthz after it`);
      });
    }
  });
}

describe('controls (the fixtures work, so the 4xx above are about the input)', () => {
  test('a valid prediction, checkpoint and dataset answer 200', async () => {
    const one = await env.app.inject({ method: 'POST', url: predictUrl, payload: { x: x3 } });
    assert.equal(one.statusCode, 200, one.body);
    assert.equal(one.json().y.length, 1);
    const batch = await env.app.inject({ method: 'POST', url: `${predictUrl}?checkpoint=1`, payload: { instances: [x3, x3] } });
    assert.equal(batch.statusCode, 200, batch.body);
    for (const suffix of ['', '/model.json', '/weights.bin', '/model.onnx']) {
      const res = await env.app.inject({ url: `/v1/models/${MODEL}/checkpoints/latest${suffix}` });
      assert.equal(res.statusCode, 200, `${suffix}: ${res.body.slice(0, 200)}`);
    }
    const v2 = await env.app.inject({ method: 'POST', url: inferUrl, payload: xInput() });
    assert.equal(v2.statusCode, 200, v2.body);
    const v2Binary = await env.app.inject({ method: 'POST', url: inferUrl, ...binaryBody(binInput(12), f32(0.1, 0.2, 0.3)) });
    assert.equal(v2Binary.statusCode, 200, v2Binary.body);
    for (const url of [`/v2/models/${MODEL}`, `/v2/models/${MODEL}/versions/1`, `/v2/models/${MODEL}/ready`, `/v2/models/${MODEL}/versions/1/ready`]) {
      assert.equal((await env.app.inject({ url })).statusCode, 200, url);
    }
    const ds = await env.app.inject({ url: `/v1/datasets/${datasetId}` });
    assert.equal(ds.statusCode, 200, ds.body);
    const alias = await env.app.inject({ method: 'PUT', url: aliasUrl('control'), payload: { checkpoint: 1 } });
    assert.equal(alias.statusCode, 200, alias.body);
    assert.equal((await env.app.inject({ url: aliasUrl('control') })).statusCode, 200);
    assert.equal((await env.app.inject({ method: 'DELETE', url: aliasUrl('control') })).statusCode, 204);
    // An id of 101-128 characters is a valid id: it reaches the route (404, not a router error).
    const longId = await env.app.inject({ url: `/v1/models/${'m'.repeat(128)}` });
    assert.equal(longId.statusCode, 404, longId.body);
    assert.equal(longId.json().field, 'modelId');
  });

  test('no training job was queued and no model recorded by any rejected request', async () => {
    const counts = await env.queue.counts();
    assert.equal(counts.waiting + counts.active + counts.delayed + counts.prioritized, 0, JSON.stringify(counts));
    const models = await env.store.listModels();
    assert.deepEqual(models.map((m) => m.modelId), [MODEL]);
  });

  test('the case table covers every route of the OpenAPI document', async () => {
    const doc = JSON.parse(await fs.readFile(path.join(repoRoot, 'openapi', 'openapi.json'), 'utf8')) as { paths: Record<string, object> };
    const covered = new Set<string>();
    const templates = Object.keys(doc.paths).map((p) => ({
      p,
      re: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`),
    }));
    for (const [, cases] of ALL) {
      for (const c of cases) {
        const url = (typeof c.url === 'function' ? c.url() : c.url).split('?')[0];
        for (const { p, re } of templates) if (re.test(url)) covered.add(`${(c.method ?? 'GET').toLowerCase()} ${p}`);
      }
    }
    const wanted = Object.entries(doc.paths)
      // Every route that takes an input (the health probes and /v2's server metadata take none).
      .filter(([p]) => p.startsWith('/v1/') || p.startsWith('/v2/models/'))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    assert.deepEqual(wanted.filter((w) => !covered.has(w)), [], 'routes without hostile cases');
  });
});

export const CASE_COUNT = ALL.reduce((n, [, cases]) => n + cases.length, 0);
