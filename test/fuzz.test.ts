// Property-based fuzzing (fast-check) of the routes that take user data: POST /v1/models/:modelId/predict,
// POST /v1/datasets and the Open Inference Protocol's POST /v2/models/:model/infer (JSON, and JSON followed by
// random binary tensor data under a right, wrong or missing Inference-Header-Content-Length). Bodies come from fc.anything, fc.json, structured-but-wrong generators (NaN and
// Infinity tokens in raw JSON text, ragged rows, stray keys), raw strings and random content types and query
// strings. Whatever arrives: never a 5xx, every non-2xx answer has the one error shape, and /healthz keeps
// answering (on /v2 the shape is the protocol's {"error": "..."}). The seed is fixed (FUZZ_SEED overrides it) and printed on failure, with fast-check's path.
// Every property runs exactly RUNS bodies (no time limit that could end it early on a slow machine), and
// the last test checks that they all ran.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { putTrainedModel, startEnv, type TestEnv } from './api-helpers.js';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20240611;
/** Bodies per property; FUZZ_RUNS changes it. */
const RUNS = process.env.FUZZ_RUNS !== undefined ? Number(process.env.FUZZ_RUNS) : 750;

const MODEL = 'mdl_fuzz';
const INPUT_DIM = 3;
const LIMITS = { BODY_LIMIT_BYTES: '65536', MAX_ROWS: '200', MAX_FEATURES: '16', MAX_PREDICT_INSTANCES: '50', RATE_LIMIT_MAX: '0' };

let env: TestEnv;
const tally = { bodies: 0, properties: 0, byStatus: new Map<number, number>() };

before(async () => {
  env = await startEnv({ env: LIMITS });
  await putTrainedModel(env.store, MODEL, { inputDim: INPUT_DIM, hidden: [5, 4], task: 'multiclass', classes: 3, seed: 21 });
});

after(async () => {
  await env?.close();
  const statuses = [...tally.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(' ');
  console.log(`fuzz: ${tally.bodies} requests (seed ${SEED}); statuses ${statuses}`);
});

interface Req {
  url: string;
  contentType?: string;
  /** Raw text or bytes, sent as-is. */
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** oip: an Open Inference Protocol route, whose errors are {"error": "..."}. */
  protocol?: 'oip';
}

/** The invariants every answer must keep. */
async function check(req: Req, okStatuses: number[]): Promise<void> {
  const opts: InjectOptions = { method: 'POST', url: req.url, headers: { ...req.headers } };
  if (req.contentType !== undefined) opts.headers = { ...opts.headers, 'content-type': req.contentType };
  if (req.body !== undefined) opts.payload = req.body;
  const res = await env.app.inject(opts);
  tally.bodies++;
  tally.byStatus.set(res.statusCode, (tally.byStatus.get(res.statusCode) ?? 0) + 1);
  const where = `${res.statusCode} ${res.body.slice(0, 300)}`;
  assert.ok(res.statusCode < 500, `5xx: ${where}`);
  if (res.statusCode < 300) {
    assert.ok(okStatuses.includes(res.statusCode), `unexpected success status: ${where}`);
    // A prediction is numbers only: never null (NaN or an overflow that JSON turned into null).
    if (res.statusCode === 200 && /^application\/json/.test(String(res.headers['content-type']))) {
      assert.ok(!/null/.test(res.body), `null in a prediction: ${where}`);
    }
  } else if (req.protocol === 'oip') {
    const body = JSON.parse(res.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['error'], where);
    assert.ok(typeof body.error === 'string' && body.error.length > 0, where);
  } else {
    assert.ok(res.statusCode >= 400, `unexpected status: ${where}`);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(body.statusCode, res.statusCode, where);
    assert.equal(typeof body.error, 'string', where);
    assert.equal(typeof body.message, 'string', where);
    assert.ok((body.message as string).length > 0, where);
    if ('field' in body) assert.equal(typeof body.field, 'string', where);
    assert.deepEqual(Object.keys(body).filter((k) => !['statusCode', 'error', 'message', 'field', 'errors'].includes(k)), [], where);
  }
  const health = await env.app.inject({ url: '/healthz' });
  assert.equal(health.statusCode, 200, 'healthz');
}

async function run(name: string, arb: fc.Arbitrary<Req>, okStatuses: number[]): Promise<void> {
  try {
    tally.properties++;
    await fc.assert(fc.asyncProperty(arb, (req) => check(req, okStatuses)), { seed: SEED, numRuns: RUNS });
  } catch (err) {
    console.error(`fuzz property "${name}" failed with seed ${SEED} (rerun: FUZZ_SEED=${SEED}); fast-check's report follows`);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Generators

const asciiText = fc.string({ unit: 'grapheme-ascii', maxLength: 40 });

/** Any JSON value as text; undefined (fc.anything can give it) becomes no body. */
const anythingText = fc.anything({ maxDepth: 4, maxKeys: 6 }).map((v) => {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
});

/** JSON number tokens, including ones JSON.stringify never writes (1e999, -0, 1e-400, 30 digits). */
const numberToken = fc.oneof(
  fc.constantFrom('1e999', '-1e999', '1e308', '-1e308', '1e300', '0', '-0', '1e-400', '123456789012345678901234567890', '0.1', '2', '1', '-3.5'),
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : 'null')),
  fc.integer().map(String),
);
/** Anything that may stand where a number should. */
const cellToken = fc.oneof(
  { weight: 6, arbitrary: numberToken },
  { weight: 1, arbitrary: fc.constantFrom('"NaN"', '"Infinity"', '"1"', 'null', 'true', '[]', '{}', '[1]', '""') },
);
const rowText = (maxLength: number) => fc.array(cellToken, { maxLength }).map((cells) => `[${cells.join(',')}]`);
const rowsText = (rows: number, cols: number) => fc.array(rowText(cols), { maxLength: rows }).map((r) => `[${r.join(',')}]`);

/** Near-valid objects as JSON text: some keys missing, some wrong, some unknown. */
function objectText(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const entries = Object.entries(fields).map(([k, arb]) => fc.option(arb.map((v) => `${JSON.stringify(k)}:${v}`), { freq: 4 }));
  const extra = fc.option(
    fc.tuple(fc.constantFrom('colour', '__proto__', 'constructor', 'y', ''), fc.constantFrom('1', '{}', '{"prototype":{}}', 'null')).map(
      ([k, v]) => `${JSON.stringify(k)}:${v}`,
    ),
    { freq: 6 },
  );
  return fc.tuple(fc.tuple(...entries), extra).map(([parts, x]) => `{${[...parts, x].filter((p) => p !== null).join(',')}}`);
}

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'APPLICATION/JSON',
      'text/csv',
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/vnd.api+json',
      '*/*',
      'json',
      ';',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z*]{1,10}\/[a-z0-9+.*-]{1,15}(; ?[a-z]{1,8}=[a-z0-9-]{0,10})?$/) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const rawBody = fc.oneof(
  asciiText,
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
  fc.json({ maxDepth: 3 }).map((j) => j.slice(0, Math.max(0, j.length - 1))), // truncated JSON
);

const query = (known: string[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant('') },
    { weight: 3, arbitrary: fc.constantFrom(...known) },
    { weight: 1, arbitrary: asciiText.map((s) => `?${encodeURIComponent(s)}=${encodeURIComponent(s)}`) },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-z=&%0-9A-F]{0,20}$/).map((s) => `?${s}`) },
  );

// predict

const modelSegment = fc.oneof(
  { weight: 12, arbitrary: fc.constant(MODEL) },
  { weight: 1, arbitrary: fc.constantFrom('mdl_unknown', '..%2F..%2Fetc', '%2e%2e', 'a%00b', 'x'.repeat(129), 'x'.repeat(300), '%ZZ') },
  { weight: 1, arbitrary: asciiText.filter((s) => s.length > 0).map(encodeURIComponent) },
);
const predictQuery = query(['?checkpoint=1', '?checkpoint=latest', '?checkpoint=2', '?checkpoint=0', '?explain=true', '?explain=false', '?explain=true&checkpoint=1']);
const predictUrl = fc.tuple(modelSegment, predictQuery).map(([m, q]) => `/v1/models/${m}/predict${q}`);

const predictStructured = objectText({
  x: fc.oneof(rowText(6), fc.constant(`[${Array(INPUT_DIM).fill('0.5').join(',')}]`), numberToken),
  instances: fc.oneof(rowsText(6, 5), fc.constant(`[[0,0,0],[1,1,1]]`), fc.constant('[]')),
});

const predictArbs: [string, fc.Arbitrary<Req>][] = [
  ['predict: fc.anything as JSON', fc.tuple(predictUrl, anythingText).map(([url, body]) => ({ url, contentType: 'application/json', body }))],
  ['predict: fc.json text', fc.tuple(predictUrl, fc.json({ maxDepth: 4 })).map(([url, body]) => ({ url, contentType: 'application/json', body }))],
  ['predict: structured but wrong', fc.tuple(predictUrl, predictStructured, contentType).map(([url, body, contentType]) => ({ url, contentType, body }))],
  ['predict: raw strings, random content types', fc.tuple(predictUrl, fc.option(rawBody, { freq: 8 }), contentType).map(([url, body, contentType]) => ({ url, contentType, body: body ?? undefined }))],
];

// infer (Open Inference Protocol)

const inferUrl = fc
  .tuple(modelSegment, fc.constantFrom('', '', '', '/versions/1', '/versions/2', '/versions/0', '/versions/latest'))
  .map(([m, v]) => `/v2/models/${m}${v}/infer`);
const inputText = objectText({
  name: fc.constantFrom('"x"', '"x"', '"x"', '"y"', '"input0"', '1', 'null'),
  shape: fc.oneof(fc.constantFrom('[1,3]', '[1,3]', '[2,3]', '[3]', '[0,3]', '[-1,3]', '[1e9,3]', '[9007199254740993,3]', '[]', '"1,3"'), rowText(3)),
  datatype: fc.constantFrom('"FP32"', '"FP32"', '"FP64"', '"INT32"', '"BYTES"', '"BOOL"', '"FLOAT"', '"fp32"', '3'),
  data: fc.oneof(rowText(7), rowsText(3, 4), fc.constant('[[0.1,0.2,0.3]]'), fc.constant('[0.1,0.2,0.3]'), cellToken),
  parameters: fc.constantFrom('{"binary_data_size":12}', '{"binary_data_size":24}', '{"binary_data_size":0}', '{"binary_data_size":-4}', '{}', '{"shared_memory_region":"r"}', 'null'),
});
const inferStructured = objectText({
  inputs: fc.oneof(fc.array(inputText, { maxLength: 3 }).map((a) => `[${a.join(',')}]`), fc.constant('[]'), cellToken),
  outputs: fc.constantFrom('[{"name":"y"}]', '[{"name":"y","parameters":{"binary_data":true}}]', '[{"name":"y","parameters":{"classification":2}}]', '[{"name":"z"}]', '[]', '{}'),
  parameters: fc.constantFrom('{"binary_data_output":true}', '{"binary_data_output":1}', '{}', '{"priority":1}'),
  id: fc.oneof(fc.string({ maxLength: 8 }).map((x) => JSON.stringify(x)), numberToken),
});
/** The JSON, then random bytes (NaN and Infinity patterns included), with a right, wrong or no header length. */
const inferBinary = fc
  .tuple(inferUrl, inferStructured, fc.uint8Array({ maxLength: 48 }), fc.constantFrom('exact', 'exact', 'exact', 'none', 'short', 'long', 'zero', 'junk'), contentType)
  .map(([url, json, tail, length, ct]): Req => {
    const n = Buffer.byteLength(json);
    const header = { exact: String(n), short: String(Math.max(1, n - 3)), long: String(n + tail.length + 1), zero: '0', junk: '1e3' }[length as 'exact'];
    return {
      url,
      protocol: 'oip',
      contentType: ct === 'application/json' ? undefined : ct,
      body: Buffer.concat([Buffer.from(json), Buffer.from(tail)]),
      headers: length === 'none' ? {} : { 'inference-header-content-length': header },
    };
  });

const inferArbs: [string, fc.Arbitrary<Req>][] = [
  ['infer: fc.anything as JSON', fc.tuple(inferUrl, anythingText).map(([url, body]): Req => ({ url, contentType: 'application/json', body, protocol: 'oip' }))],
  ['infer: structured but wrong JSON, random content types', fc.tuple(inferUrl, inferStructured, contentType).map(([url, body, contentType]): Req => ({ url, contentType, body, protocol: 'oip' }))],
  ['infer: JSON and binary tensor data', inferBinary],
];

// datasets

const datasetQuery = query(['?label=y', '?label=a', '?name=n', '?label=y&name=n', '?label=', '?label=y&label=a']);
const datasetUrl = datasetQuery.map((q) => `/v1/datasets${q}`);

const datasetStructured = objectText({
  features: fc.oneof(rowsText(8, 5), fc.constant('[[1,2],[3,4]]'), fc.constant('[]'), cellToken),
  labels: fc.oneof(rowText(8), fc.constant('[0,1]'), cellToken),
  name: fc.oneof(fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s)), numberToken),
  featureNames: fc.oneof(fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 }).map((a) => JSON.stringify(a)), fc.constant('["a","a"]')),
});

const csvCell = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('1', '0', '-2.5', '3e2', '0.001') },
  { weight: 2, arbitrary: fc.constantFrom('NaN', 'Infinity', '1e999', '1e300', '', 'x', '"q"', '"', '0x1F', ' 1 ', '1,5') },
  { weight: 1, arbitrary: asciiText },
);
const csvText = fc
  .tuple(
    fc.array(fc.constantFrom('a', 'b', 'y', 'c', '', 'a'), { minLength: 0, maxLength: 5 }),
    fc.array(fc.array(csvCell, { maxLength: 6 }), { maxLength: 12 }),
    fc.constantFrom(',', ';', '\t'),
    fc.constantFrom('\n', '\r\n', '\r'),
    fc.boolean(),
  )
  .map(([header, rows, sep, eol, bom]) => (bom ? '\uFEFF' : '') + [header, ...rows].map((r) => r.join(sep)).join(eol) + eol);

const datasetArbs: [string, fc.Arbitrary<Req>][] = [
  ['datasets: fc.anything as JSON', fc.tuple(datasetUrl, anythingText).map(([url, body]) => ({ url, contentType: 'application/json', body }))],
  ['datasets: fc.json text', fc.tuple(datasetUrl, fc.json({ maxDepth: 4 })).map(([url, body]) => ({ url, contentType: 'application/json', body }))],
  ['datasets: structured but wrong', fc.tuple(datasetUrl, datasetStructured, contentType).map(([url, body, contentType]) => ({ url, contentType, body }))],
  [
    'datasets: CSV and raw strings, random content types',
    fc
      .tuple(datasetUrl, fc.oneof(csvText, rawBody), fc.oneof({ weight: 3, arbitrary: fc.constant('text/csv') }, { weight: 2, arbitrary: contentType }))
      .map(([url, body, contentType]) => ({ url, contentType, body })),
  ],
];

describe('fuzz POST /v1/models/:modelId/predict', () => {
  test('a valid request answers 200 (the fixture model works)', async () => {
    const res = await env.app.inject({ method: 'POST', url: `/v1/models/${MODEL}/predict`, payload: { x: [0.5, 0.5, 0.5] } });
    assert.equal(res.statusCode, 200, res.body);
  });
  for (const [name, arb] of predictArbs) test(name, () => run(name, arb, [200]));
});

describe('fuzz POST /v2/models/:model/infer', () => {
  test('a valid request answers 200 (the fixture model works)', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: `/v2/models/${MODEL}/infer`,
      payload: { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [0.5, 0.5, 0.5] }] },
    });
    assert.equal(res.statusCode, 200, res.body);
  });
  for (const [name, arb] of inferArbs) test(name, () => run(name, arb, [200]));
});

describe('fuzz POST /v1/datasets', () => {
  for (const [name, arb] of datasetArbs) test(name, () => run(name, arb, [201]));
});

test('every property ran all of its bodies', () => {
  assert.equal(tally.properties, predictArbs.length + inferArbs.length + datasetArbs.length);
  assert.equal(tally.bodies, tally.properties * RUNS, `${tally.bodies} bodies for ${tally.properties} properties of ${RUNS}`);
});
