// The Open Inference Protocol routes (/v2), byte for byte: requests written by hand after the examples of
// KServe's required_api.md and Triton's binary tensor data and classification extensions, answered by a
// network whose outputs are exact (test/helpers/exact-checkpoint.ts), in JSON and in binary, plus what a
// tritonclient sends (no Content-Type, binary inputs, binary_data_output) and the malformed requests the
// extension makes possible. Errors are {"error": "..."} only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { startEnv, type TestEnv } from './api-helpers.js';
import { putExactModel } from './helpers/exact-checkpoint.js';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string };

const M = 'mdl_exact';
let env: TestEnv;

before(async () => {
  env = await startEnv({ env: { RATE_LIMIT_MAX: '0' } });
  // Epoch 1: output bias 0; epoch 2 (the newest): 0.25.
  await putExactModel(env.store, M, [0, 0.25]);
  const pending = { ...(await env.store.getModel(M))!, modelId: 'mdl_pending', status: 'running' as const };
  await env.store.putModel(pending);
});

after(async () => {
  await env?.close();
});

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** x = [[1, 2], [0.5, -1]] as FP32 and FP64, little-endian. */
const X_FP32 = hex('0000803f 00000040 0000003f 000080bf');
const X_FP64 = hex('000000000000f03f 0000000000000040 000000000000e03f 000000000000f0bf');
/** y of epoch 2 for that x: [[8.5, 1, 9.75], [-4.5, 0, -4.25]] as FP32. */
const Y_FP32 = hex('00000841 0000803f 00001c41 000090c0 00000000 000088c0');

function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return env.app.inject({ method: 'POST', url, payload: body, headers } as InjectOptions);
}

/** A binary request as a client writes it: the JSON, its length in Inference-Header-Content-Length, the bytes. */
function binaryRequest(json: string, ...tensors: Buffer[]): { body: Buffer; headers: Record<string, string> } {
  return {
    body: Buffer.concat([Buffer.from(json, 'utf8'), ...tensors]),
    headers: { 'inference-header-content-length': String(Buffer.byteLength(json)) },
  };
}

function assertError(res: LightMyRequestResponse, status: number, message: RegExp): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json();
  assert.deepEqual(Object.keys(body), ['error'], res.body);
  assert.match(body.error, message);
}

describe('health and metadata', () => {
  test('live and ready answer 200 with an empty body', async () => {
    for (const url of ['/v2/health/live', '/v2/health/ready']) {
      const res = await env.app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.rawPayload.length, 0, url);
    }
  });

  test('server metadata: name, version and the extensions implemented', async () => {
    const res = await env.app.inject({ url: '/v2' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, `{"name":"bn-service","version":"${pkg.version}","extensions":["binary_tensor_data","classification"]}`);
  });

  test('model metadata: versions are the epochs, one FP32 input x and output y with -1 for the batch', async () => {
    const expected =
      '{"name":"mdl_exact","versions":["1","2"],"platform":"bn-service_checkpoint",' +
      '"inputs":[{"name":"x","datatype":"FP32","shape":[-1,2]}],"outputs":[{"name":"y","datatype":"FP32","shape":[-1,3]}]}';
    for (const url of [`/v2/models/${M}`, `/v2/models/${M}/versions/1`, `/v2/models/${M}/versions/2`]) {
      const res = await env.app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.body, expected, url);
    }
    const pending = await env.app.inject({ url: '/v2/models/mdl_pending' });
    assert.equal(pending.json().versions.length, 0, 'a model without a checkpoint yet has no versions');
  });

  test('unknown models, versions and routes are 404 in the protocol shape', async () => {
    assertError(await env.app.inject({ url: '/v2/models/mdl_nope' }), 404, /no model mdl_nope/);
    assertError(await env.app.inject({ url: `/v2/models/${M}/versions/3` }), 404, /has no version 3/);
    assertError(await env.app.inject({ url: `/v2/models/${M}/versions/3/ready` }), 404, /no checkpoint for epoch 3/);
    assertError(await env.app.inject({ url: '/v2/models/mdl_nope/ready' }), 404, /no model mdl_nope/);
    assertError(await post('/v2/models/mdl_nope/infer', '{"inputs":[]}'), 400, /inputs/);
    assertError(await env.app.inject({ url: '/v2/repository/index', method: 'POST' }), 404, /no route POST \/v2\/repository\/index/);
    assertError(await env.app.inject({ url: '/v2/models/%ZZ' }), 400, /%-escape/);
  });

  test('model ready: 200 empty once loaded; 400 for a model without a checkpoint yet', async () => {
    const ready = await env.app.inject({ url: `/v2/models/${M}/versions/1/ready` });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.rawPayload.length, 0);
    assertError(await env.app.inject({ url: '/v2/models/mdl_pending/ready' }), 400, /not ready: .*no checkpoint yet/);
  });
});

describe('infer, JSON', () => {
  // KServe required_api.md's inference request example, with this model's input.
  const request = '{"id":"42","inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,0.5,-1]}],"outputs":[{"name":"y"}]}';
  const answer = '{"model_name":"mdl_exact","model_version":"2","id":"42","outputs":[{"name":"y","datatype":"FP32","shape":[2,3],"data":[8.5,1,9.75,-4.5,0,-4.25]}]}';

  test('the protocol example: id echoed, outputs flat and row-major, the newest version', async () => {
    const res = await post(`/v2/models/${M}/infer`, request, { 'content-type': 'application/json' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.headers['inference-header-content-length'], undefined);
    assert.equal(res.body, answer);
  });

  test('nested data, FP64, no id, no outputs and an explicit version', async () => {
    const nested = await post(`/v2/models/${M}/infer`, '{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP64","data":[[1,2],[0.5,-1]]}]}', {
      'content-type': 'application/json',
    });
    assert.equal(nested.body, answer.replace('"id":"42",', ''));
    const v1 = await post(`/v2/models/${M}/versions/1/infer`, request, { 'content-type': 'application/json' });
    assert.equal(v1.body, answer.replace('"model_version":"2"', '"model_version":"1"').replace('9.75', '9.5').replace('-4.25', '-4.5'));
  });

  test('JSON FP32 outputs are the float32 values, as the binary form carries them', async () => {
    const res = await post(`/v2/models/${M}/infer`, '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[0.1,0.2]}]}');
    const data = res.json().outputs[0].data as number[];
    // r0 = 2 (0.1 + 0.4 - 1) + 0.5 = -0.5, r1 = -0.1 + 0.1 + 1 = 1; x in float64 gives values off by ulps.
    for (const v of data) assert.equal(v, Math.fround(v), `${v} is a float32 value`);
    assert.ok(Math.abs(data[0] + 0.5) < 1e-6 && Math.abs(data[1] - 1) < 1e-6, JSON.stringify(data));
  });

  test('classification extension: top-k "value:index" strings, largest first, BYTES [rows, k]', async () => {
    const res = await post(
      `/v2/models/${M}/infer`,
      '{"id":"42","inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,0.5,-1]}],"outputs":[{"name":"y","parameters":{"classification":2}}]}',
    );
    assert.equal(
      res.body,
      '{"model_name":"mdl_exact","model_version":"2","id":"42","outputs":[{"name":"y","datatype":"BYTES","shape":[2,2],"data":["9.750000:2","8.500000:0","0.000000:1","-4.250000:2"]}]}',
    );
    const all = await post(`/v2/models/${M}/infer`, '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"y","parameters":{"classification":10}}]}');
    assert.deepEqual(all.json().outputs[0], { name: 'y', datatype: 'BYTES', shape: [1, 3], data: ['9.750000:2', '8.500000:0', '1.000000:1'] });
  });
});

describe('infer, binary tensor data', () => {
  // Triton extension_binary_data.md's example, with this model's input and output.
  const json =
    '{"model_name":"mdl_exact","inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","parameters":{"binary_data_size":16}}],' +
    '"outputs":[{"name":"y","parameters":{"binary_data":true}}]}';
  const answerJson = '{"model_name":"mdl_exact","model_version":"2","outputs":[{"name":"y","datatype":"FP32","shape":[2,3],"parameters":{"binary_data_size":24}}]}';

  function assertBinaryAnswer(res: LightMyRequestResponse, headerJson: string, tensor: Buffer): void {
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['inference-header-content-length'], String(Buffer.byteLength(headerJson)));
    assert.deepEqual(res.rawPayload, Buffer.concat([Buffer.from(headerJson), tensor]));
    assert.equal(res.headers['content-length'], String(res.rawPayload.length));
  }

  test('the extension example: binary in, binary out (Content-Type application/octet-stream)', async () => {
    const { body, headers } = binaryRequest(json, X_FP32);
    assertBinaryAnswer(await post(`/v2/models/${M}/infer`, body, { ...headers, 'content-type': 'application/octet-stream' }), answerJson, Y_FP32);
  });

  test('as tritonclient sends it over a socket: no Content-Type, binary_data_output instead of outputs', async () => {
    const tritonJson = '{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","parameters":{"binary_data_size":16}}],"parameters":{"binary_data_output":true}}';
    const { body, headers } = binaryRequest(tritonJson, X_FP32);
    const address = await env.app.listen({ port: 0, host: '127.0.0.1' });
    const res = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      // node:http adds no Content-Type of its own, as geventhttpclient (tritonclient.http) does not.
      const req = http.request(`${address}/v2/models/${M}/infer`, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['inference-header-content-length'], String(answerJson.length));
    assert.deepEqual(res.body, Buffer.concat([Buffer.from(answerJson), Y_FP32]));
  });

  test('mixed forms: binary FP64 input with a JSON output, and JSON input with a binary output', async () => {
    const fp64 = binaryRequest('{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP64","parameters":{"binary_data_size":32}}],"outputs":[{"name":"y","parameters":{"binary_data":false}}],"parameters":{"binary_data_output":true}}', X_FP64);
    const res = await post(`/v2/models/${M}/infer`, fp64.body, fp64.headers);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.body, '{"model_name":"mdl_exact","model_version":"2","outputs":[{"name":"y","datatype":"FP32","shape":[2,3],"data":[8.5,1,9.75,-4.5,0,-4.25]}]}');

    const jsonIn = await post(`/v2/models/${M}/infer`, '{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,0.5,-1]}],"outputs":[{"name":"y","parameters":{"binary_data":true}}]}', {
      'content-type': 'application/json',
    });
    assertBinaryAnswer(jsonIn, answerJson, Y_FP32);
  });

  test('classification as binary: BYTES elements as a 4-byte little-endian length and the string', async () => {
    const { body, headers } = binaryRequest(
      '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}],"outputs":[{"name":"y","parameters":{"classification":2,"binary_data":true}}]}',
      X_FP32.subarray(0, 8),
    );
    const labels = Buffer.concat([hex('0a000000'), Buffer.from('9.750000:2'), hex('0a000000'), Buffer.from('8.500000:0')]);
    assertBinaryAnswer(
      await post(`/v2/models/${M}/infer`, body, headers),
      '{"model_name":"mdl_exact","model_version":"2","outputs":[{"name":"y","datatype":"BYTES","shape":[1,2],"parameters":{"binary_data_size":28}}]}',
      labels,
    );
  });

  test('gzip and deflate request bodies (tritonclient request_compression_algorithm)', async () => {
    const { body, headers } = binaryRequest(json, X_FP32);
    for (const [encoding, pack] of [['gzip', zlib.gzipSync], ['deflate', zlib.deflateSync]] as const) {
      assertBinaryAnswer(await post(`/v2/models/${M}/infer`, pack(body), { ...headers, 'content-encoding': encoding }), answerJson, Y_FP32);
    }
    assertError(await post(`/v2/models/${M}/infer`, body, { ...headers, 'content-encoding': 'br' }), 415, /Content-Encoding br is not supported/);
    assertError(await post(`/v2/models/${M}/infer`, body, { ...headers, 'content-encoding': 'gzip' }), 400, /not valid gzip data/);
  });

  test('two inputs, one JSON and one binary: the binary bytes are the second input\'s, and the model has only x', async () => {
    const { body, headers } = binaryRequest(
      '{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,0.5,-1]},{"name":"mask","shape":[2,2],"datatype":"FP32","parameters":{"binary_data_size":16}}]}',
      X_FP32,
    );
    assertError(await post(`/v2/models/${M}/infer`, body, headers), 400, /unexpected inference input 'mask' for model 'mdl_exact': its only input is 'x' \[-1, 2\]/);
  });
});

describe('malformed requests: 400 with a message', () => {
  const url = `/v2/models/${M}/infer`;
  const input = (extra: string) => `{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32",${extra}}]}`;

  test('a header length past the body', async () => {
    const json = input('"parameters":{"binary_data_size":16}');
    const body = Buffer.concat([Buffer.from(json), X_FP32]);
    assertError(
      await post(url, body, { 'inference-header-content-length': String(body.length + 1) }),
      400,
      new RegExp(`Inference-Header-Content-Length is ${body.length + 1}, past the end of the body \\(${body.length} bytes\\)`),
    );
    assertError(await post(url, body, { 'inference-header-content-length': 'ten' }), 400, /must be one whole number of bytes/);
    assertError(await post(url, body, { 'inference-header-content-length': '0' }), 400, /is 0: the body must start with the JSON/);
    // A length that cuts the JSON short leaves invalid JSON.
    assertError(await post(url, body, { 'inference-header-content-length': String(json.length - 1) }), 400, /not valid JSON/);
  });

  test('sizes that do not match the shape', async () => {
    const short = binaryRequest(input('"parameters":{"binary_data_size":12}'), X_FP32.subarray(0, 12));
    assertError(await post(url, short.body, short.headers), 400, /binary_data_size is 12, but shape \[2, 2\] of FP32 takes 16 bytes/);
    const missing = binaryRequest(input('"parameters":{"binary_data_size":16}'), X_FP32.subarray(0, 12));
    assertError(await post(url, missing.body, missing.headers), 400, /needs 16 bytes of binary data, but only 12 remain/);
    const extra = binaryRequest(input('"parameters":{"binary_data_size":16}'), X_FP32, hex('00'));
    assertError(await post(url, extra.body, extra.headers), 400, /the body has 1 bytes after the binary data of the inputs/);
    const noHeader = Buffer.concat([Buffer.from(input('"parameters":{"binary_data_size":16}')), X_FP32]);
    assertError(await post(url, noHeader), 400, /not valid JSON/);
    assertError(await post(url, input('"parameters":{"binary_data_size":16}')), 400, /the request has no binary data: send Inference-Header-Content-Length/);
    assertError(await post(url, input('"data":[1,2,3]')), 400, /shape \[2, 2\] has 4 elements, data has 3/);
    assertError(await post(url, '{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}'), 400, /unexpected shape for input 'x' of model 'mdl_exact': expected \[-1, 2\], got \[1, 3\]/);
    assertError(await post(url, '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,2]}]}'), 400, /expected \[-1, 2\], got \[2\]/);
  });

  test('an unknown datatype, and datatypes of the protocol this server does not take', async () => {
    assertError(await post(url, '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FLOAT32","data":[1,2]}]}'), 400, /datatype "FLOAT32" is not a datatype of the protocol \(BOOL, UINT8/);
    for (const datatype of ['INT32', 'BOOL', 'BYTES', 'FP16']) {
      assertError(await post(url, `{"inputs":[{"name":"x","shape":[1,2],"datatype":"${datatype}","data":[1,2]}]}`), 400, new RegExp(`datatype ${datatype} is not supported; send FP32 or FP64`));
    }
  });

  test('values: non-numbers, non-finite numbers (JSON and binary NaN), magnitudes beyond the limit', async () => {
    assertError(await post(url, input('"data":[1,"2",3,4]')), 400, /inputs\[0\]\.data\[1\] must be a number, got string/);
    assertError(await post(url, input('"data":[[1,[2]],[3,4]]')), 400, /inputs\[0\]\.data\[0\]\[1\] is nested deeper than the shape allows/);
    assertError(await post(url, input('"data":[1,1e999,3,4]')), 400, /x\[1\]: expected a finite number/);
    assertError(await post(url, input('"data":[1,2,3,1e300]')), 400, /x\[3\]: 1e\+300 is beyond the supported magnitude/);
    const nan = binaryRequest(input('"parameters":{"binary_data_size":16}'), Buffer.concat([X_FP32.subarray(0, 8), hex('0000c07f'), X_FP32.subarray(12)]));
    assertError(await post(url, nan.body, nan.headers), 400, /x\[2\]: expected a finite number/);
  });
});

describe('the same per-request features as v1', () => {
  test('request id, security headers, metrics with kind="infer", and errors counted too', async () => {
    const res = await post(`/v2/models/${M}/infer`, '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}', { 'x-request-id': 'trace-v2-1' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-request-id'], 'trace-v2-1');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    await post(`/v2/models/${M}/infer`, '{"inputs":[]}');
    const text = (await env.app.inject({ url: '/metrics' })).body;
    assert.match(text, /bn_prediction_duration_seconds_count\{kind="infer",engine="folded"\} [1-9]/);
    assert.match(text, /http_request_duration_seconds_count\{route="\/v2\/models\/:model\/infer",method="POST",status_code="200"\} [1-9]/);
    assert.match(text, /http_request_duration_seconds_count\{route="\/v2\/models\/:model\/infer",method="POST",status_code="400"\} [1-9]/);
  });

  test('v2 and v1 give the same prediction for the same point', async () => {
    const v1 = (await env.app.inject({ method: 'POST', url: `/v1/models/${M}/predict`, payload: { x: [0.3, -0.7] } })).json();
    const v2 = (await post(`/v2/models/${M}/infer`, '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[0.3,-0.7]}]}')).json();
    assert.deepEqual(v2.outputs[0].data, (v1.y as number[]).map(Math.fround));
  });
});
