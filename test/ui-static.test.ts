// Serving the dashboard: / redirects to /ui/, the built files and every client route are public (the
// API still needs the key), under a CSP of the service's own origin, hashed assets cached for good,
// a missing asset a 404 rather than the page, nothing of it in the OpenAPI document; and a server whose
// dashboard was never built says so.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import errors from '../src/api/plugins/app/errors.js';
import staticUi, { UI_DIR } from '../src/api/plugins/external/static-ui.js';
import { startEnv, type TestEnv } from './api-helpers.js';

const KEY = 'static-ui-key';

describe('the dashboard at /ui', () => {
  let env: TestEnv;
  before(async () => {
    env = await startEnv({ env: { API_KEYS: KEY } });
  });
  after(async () => {
    await env?.close();
  });

  test('/ redirects to /ui/', async () => {
    const res = await env.app.inject({ url: '/' });
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/ui/');
  });

  test('the page and every client route answer index.html without a key, under a self-only CSP', async () => {
    const built = await fs.readFile(path.join(UI_DIR, 'index.html'), 'utf8');
    for (const url of ['/ui', '/ui/', '/ui/models', '/ui/jobs/job_x', '/ui/datasets/builtin%3Ablobs?x=1']) {
      const res = await env.app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.body, built, url);
      assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      const csp = String(res.headers['content-security-policy']);
      for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' data:", "object-src 'none'", "frame-ancestors 'none'"]) {
        assert.ok(csp.includes(directive), `${url}: ${directive} in ${csp}`);
      }
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|upgrade-insecure-requests/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    }
    // The API keeps its own headers and still needs the key.
    const apiRes = await env.app.inject({ url: '/v1/models' });
    assert.equal(apiRes.statusCode, 401);
    assert.equal(apiRes.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'");
    assert.equal((await env.app.inject({ url: '/uix' })).statusCode, 401, 'only /ui itself is public');
  });

  test('hashed assets are cached for good; a missing one is a 404 in the API error shape', async () => {
    const index = (await env.app.inject({ url: '/ui/' })).body;
    const assets = [...index.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1]);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), index);
    for (const asset of assets) {
      const res = await env.app.inject({ url: asset });
      assert.equal(res.statusCode, 200, asset);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.match(String(res.headers['content-security-policy']), /script-src 'self'/);
    }
    const missing = await env.app.inject({ url: '/ui/assets/index-0000.js' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().field, 'url');
    assert.match(missing.json().message, /reload the page/);
  });

  test('the built page loads nothing from another origin and has no inline script or style', async () => {
    const index = (await env.app.inject({ url: '/ui/' })).body;
    assert.doesNotMatch(index, /https?:\/\//);
    assert.doesNotMatch(index, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(index, /<style|\sstyle=|\son[a-z]+=/);
  });

  test('the OpenAPI document describes the API only', async () => {
    const spec = (await env.app.inject({ url: '/docs/json' })).json();
    assert.deepEqual(Object.keys(spec.paths).filter((p) => p === '/' || p.startsWith('/ui')), []);
  });
});

test('a server whose dashboard was never built answers /ui with a 404 that says how to build it', async () => {
  const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-ui-'));
  const app = Fastify();
  try {
    await app.register(errors);
    await app.register(staticUi, { root: empty });
    for (const url of ['/ui', '/ui/models']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.match(res.json().message, /npm run build/);
    }
    assert.equal((await app.inject({ url: '/' })).statusCode, 302);
  } finally {
    await app.close();
    await fs.rm(empty, { recursive: true, force: true });
  }
});
