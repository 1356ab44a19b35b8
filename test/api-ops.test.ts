// Operations: the OpenAPI document, health and readiness (Redis stopped and restarted), auth, the rate
// limit, log redaction, security headers, metrics, and predictions while Redis is down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startTestRedis } from './helpers/redis.js';
import { renderOpenApi } from '../scripts/write-openapi.js';
import { checkpoint, modelRecord, tfjsModel, trainingState } from './store-fixtures.js';
import { startEnv, tinyModel, waitFor, type TestEnv } from './api-helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('docs, health, readiness, metrics', () => {
  let env: TestEnv;
  before(async () => {
    env = await startEnv({ env: { CORS_ORIGIN: 'https://app.example' } });
    await env.store.putModel(modelRecord('mdl_fixture'));
    await env.store.putCheckpoint(checkpoint('mdl_fixture', 1), trainingState('mdl_fixture', 1), tfjsModel(checkpoint('mdl_fixture', 1)));
  });
  after(async () => {
    await env?.close();
  });

  test('openapi/openapi.json equals what the app serves at /docs/json (regenerate: npm run openapi)', async () => {
    const res = await env.app.inject({ url: '/docs/json' });
    assert.equal(res.statusCode, 200);
    const file = await fs.readFile(path.join(root, 'openapi', 'openapi.json'), 'utf8');
    assert.equal(file, renderOpenApi(res.json()), 'openapi/openapi.json is stale: run npm run openapi');
    const spec = res.json();
    assert.equal(spec.openapi, '3.0.3');
    for (const route of ['/v1/datasets', '/v1/training-jobs', '/v1/training-jobs/{jobId}/events', '/v1/models/{modelId}/predict']) {
      assert.ok(spec.paths[route], route);
    }
    // every operation documents its responses, tags and a summary
    for (const [route, ops] of Object.entries(spec.paths as Record<string, Record<string, { tags?: string[]; summary?: string; responses: object }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(op.summary, `${method} ${route} summary`);
        assert.ok(op.tags?.length, `${method} ${route} tags`);
        assert.ok(Object.keys(op.responses).length >= 2 || route === '/healthz', `${method} ${route} responses`);
      }
    }
  });

  test('Swagger UI is served from the package with a working CSP', async () => {
    const res = await env.app.inject({ url: '/docs/' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /swagger-ui-bundle\.js/);
    assert.doesNotMatch(res.body, /https?:\/\/(cdn|unpkg)/);
    assert.doesNotMatch(String(res.headers['content-security-policy']), /upgrade-insecure-requests/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
    const bundle = await env.app.inject({ url: '/docs/static/swagger-ui-bundle.js' });
    assert.equal(bundle.statusCode, 200);
  });

  test('/healthz, security headers, request id, CORS', async () => {
    const res = await env.app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-123', origin: 'https://app.example' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
    // An API's headers (OWASP REST Security Cheat Sheet), not a document's.
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'");
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
    assert.equal(res.headers['x-xss-protection'], undefined);
    assert.equal(res.headers['x-request-id'], 'trace-123');
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example');
    const other = await env.app.inject({ url: '/healthz', headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  test('/readyz: 200, then 503 while Redis is stopped, 200 again after it restarts; predictions keep working', async () => {
    const ok = await env.app.inject({ url: '/readyz' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().status, 'ready');
    assert.deepEqual(Object.keys(ok.json().checks).sort(), ['inference', 'redis', 'store']);

    const port = env.redis.port;
    await env.redis.stop();
    try {
      const down = await waitFor(async () => {
        const res = await env.app.inject({ url: '/readyz' });
        return res.statusCode === 503 ? res : null;
      }, 10_000, 'readyz 503');
      assert.equal(down.json().status, 'not-ready');
      assert.equal(down.json().checks.redis.ok, false);
      assert.equal(down.json().checks.store.ok, true);

      // Job routes answer 503 with a message about Redis; predictions do not need it.
      const job = await env.app.inject({ method: 'POST', url: '/v1/training-jobs', payload: { datasetId: 'builtin:blobs', ...tinyModel } });
      assert.equal(job.statusCode, 503, job.body);
      assert.match(job.json().message, /Redis/);
      assert.ok(job.headers['retry-after']);
      const predict = await env.app.inject({ method: 'POST', url: '/v1/models/mdl_fixture/predict', payload: { x: [0.5, -1] } });
      assert.equal(predict.statusCode, 200, predict.body);
      assert.equal(predict.json().checkpoint, 1);

      const metrics = await env.app.inject({ url: '/metrics' });
      assert.equal(metrics.statusCode, 200);
      assert.match(metrics.body, /bn_queue_up 0/);
    } finally {
      const restarted = await startTestRedis({ port });
      await env.redis.cleanup(); // the stopped server's directory
      env.redis = restarted; // env.close() stops this one
    }
    const back = await waitFor(async () => {
      const res = await env.app.inject({ url: '/readyz' });
      return res.statusCode === 200 ? res : null;
    }, 20_000, 'readyz 200 after the restart');
    assert.equal(back.json().status, 'ready');
  });

  test('/metrics: Prometheus text from this app\'s own registry', async () => {
    const res = await env.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/plain/);
    assert.match(res.body, /# TYPE http_request_duration_seconds histogram/);
    assert.match(res.body, /bn_queue_jobs\{state="waiting"\}/);
    assert.match(res.body, /bn_training_samples_per_second/);
  });
});

describe('auth and rate limit', () => {
  const plainKey = 'k-plain-0123456789';
  const hashedKey = 'k-hashed-9876543210';
  let env: TestEnv;
  const lines: string[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    const digest = createHash('sha256').update(hashedKey).digest('hex');
    env = await startEnv({
      env: { API_KEYS: `${plainKey}, sha256:${digest}`, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' },
      logger,
    });
  });
  after(async () => {
    await env?.close();
  });

  test('401 without a key or with a wrong one, with WWW-Authenticate', async () => {
    const none = await env.app.inject({ url: '/v1/models' });
    assert.equal(none.statusCode, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer/);
    assert.equal(none.json().field, 'Authorization');
    const wrong = await env.app.inject({ url: '/v1/models', headers: { authorization: 'Bearer not-a-key' } });
    assert.equal(wrong.statusCode, 401);
    assert.match(String(wrong.headers['www-authenticate']), /invalid_token/);
    const basic = await env.app.inject({ url: '/v1/models', headers: { authorization: `Basic ${plainKey}` } });
    assert.equal(basic.statusCode, 401);
    const unknownRoute = await env.app.inject({ url: '/v1/secret-route' });
    assert.equal(unknownRoute.statusCode, 401);
  });

  test('200 with a plain key and with a sha256-hashed key; probes and docs open', async () => {
    for (const key of [plainKey, hashedKey]) {
      const res = await env.app.inject({ url: '/v1/models', headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.statusCode, 200, res.body);
    }
    assert.equal((await env.app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await env.app.inject({ url: '/readyz' })).statusCode, 200);
    assert.equal((await env.app.inject({ url: '/docs/json' })).statusCode, 200);
    assert.equal((await env.app.inject({ url: '/metrics' })).statusCode, 401);
  });

  test('rate limit on predictions: 429 with Retry-After in the error shape', async () => {
    const headers = { authorization: `Bearer ${plainKey}` };
    const codes: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await env.app.inject({ method: 'POST', url: '/v1/models/mdl_none/predict', headers, payload: { x: [1] } });
      codes.push(last.statusCode);
    }
    assert.deepEqual(codes, [404, 404, 404, 429]);
    assert.ok(Number(last?.headers['retry-after']) > 0, String(last?.headers['retry-after']));
    const body = last?.json();
    assert.equal(body.statusCode, 429);
    assert.equal(body.error, 'Too Many Requests');
    assert.match(body.message, /retry/);
    // Limits are per key: the other key still gets through, and unlimited routes are not affected.
    const other = await env.app.inject({ method: 'POST', url: '/v1/models/mdl_none/predict', headers: { authorization: `Bearer ${hashedKey}` }, payload: { x: [1] } });
    assert.equal(other.statusCode, 404);
    assert.equal((await env.app.inject({ url: '/v1/models', headers })).statusCode, 200);
  });

  test('/v2: 401 and 429 in the protocol\'s {"error"} shape; its health probes open, everything else behind the key', async () => {
    const none = await env.app.inject({ url: '/v2' });
    assert.equal(none.statusCode, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer/);
    assert.deepEqual(Object.keys(none.json()), ['error']);
    assert.match(none.json().error, /missing credentials/);
    for (const url of ['/v2/health/live', '/v2/health/ready']) assert.equal((await env.app.inject({ url })).statusCode, 200, url);
    assert.equal((await env.app.inject({ url: '/v2/models/mdl_none/ready' })).statusCode, 401);
    assert.equal((await env.app.inject({ url: '/v2/no-such-route' })).json().error, 'missing credentials: send Authorization: Bearer <API key>');

    const headers = { authorization: `Bearer ${hashedKey}`, 'content-type': 'application/json' };
    const payload = '{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[1]}]}';
    const codes: number[] = [];
    let last;
    for (let i = 0; i < 4 && codes.at(-1) !== 429; i++) {
      last = await env.app.inject({ method: 'POST', url: '/v2/models/mdl_none/infer', headers, payload });
      codes.push(last.statusCode);
    }
    assert.equal(codes.at(-1), 429, `rate limited within RATE_LIMIT_MAX + 1 requests: ${codes.join(', ')}`);
    assert.ok(codes.slice(0, -1).every((c) => c === 404), codes.join(', '));
    assert.ok(last);
    assert.ok(Number(last.headers['retry-after']) > 0);
    assert.deepEqual(Object.keys(last.json()), ['error']);
    assert.match(last.json().error, /rate limit of 3 requests per 60 s exceeded/);
  });

  test('keys never reach the logs', async () => {
    // The req serializer drops headers anyway; a handler logging them must be redacted too.
    env.app.log.info({ headers: { authorization: `Bearer ${plainKey}` } }, 'a handler logging headers');
    env.app.log.info({ request: { headers: { authorization: `Bearer ${hashedKey}` } } }, 'another one');
    await new Promise((r) => setTimeout(r, 50));
    const all = lines.join('');
    assert.ok(all.length > 0, 'the logger wrote something');
    assert.ok(!all.includes(plainKey), 'plain key in the logs');
    assert.ok(!all.includes(hashedKey), 'hashed key in the logs');
    assert.match(all, /\[redacted\]/);
    // Every line written while serving a request carries that request's id.
    const requestLines = all
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { reqId?: string; req?: unknown; res?: unknown })
      .filter((l) => l.req !== undefined || l.res !== undefined);
    assert.ok(requestLines.length > 0, 'requests were logged');
    for (const line of requestLines) assert.equal(typeof line.reqId, 'string', JSON.stringify(line));
  });
});
