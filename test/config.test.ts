// Configuration is validated once at start: defaults, and one clear error naming every bad variable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config/config.js';

test('defaults: loopback, port 3000, ./data, one job per core, auto backend', () => {
  const c = loadConfig({});
  assert.equal(c.HOST, '127.0.0.1');
  assert.equal(c.PORT, 3000);
  assert.equal(c.DATA_DIR, path.resolve('./data'));
  assert.equal(c.WORKER_CONCURRENCY, os.availableParallelism());
  assert.equal(c.TFJS_BACKEND, 'auto');
  assert.equal(c.ROLE, 'all');
  assert.equal(c.REDIS_URL, undefined);
});

test('bad values are named, all at once', () => {
  assert.throws(
    () => loadConfig({ PORT: 'abc', TFJS_BACKEND: 'gpu', WORKER_CONCURRENCY: '0' }),
    (err: unknown) =>
      err instanceof ConfigError &&
      /PORT="abc"/.test(err.message) &&
      /TFJS_BACKEND="gpu"/.test(err.message) &&
      /WORKER_CONCURRENCY="?0"?: must be >= 1/.test(err.message),
  );
});

test('API_KEYS: required off loopback, never empty, sha256 entries well formed', () => {
  assert.throws(() => loadConfig({ HOST: '0.0.0.0' }), /API_KEYS is required when HOST=0\.0\.0\.0/);
  assert.throws(() => loadConfig({ HOST: '0.0.0.0', API_KEYS: ' , ' }), /holds no key/);
  assert.throws(() => loadConfig({ API_KEYS: 'sha256:xyz' }), /entry 1: sha256: must be followed by 64 hex digits/);
  assert.equal(loadConfig({ HOST: '0.0.0.0', API_KEYS: 'k1,sha256:' + 'a'.repeat(64) }).HOST, '0.0.0.0');
  // A worker listens nowhere: no keys needed.
  assert.equal(loadConfig({ HOST: '0.0.0.0', ROLE: 'worker' }).ROLE, 'worker');
});

test('TRAIN_ENGINE and TRAIN_THREADS: auto; cores / WORKER_CONCURRENCY threads by default, never more; or share', () => {
  const cores = os.availableParallelism();
  assert.equal(loadConfig({}).TRAIN_ENGINE, 'auto');
  assert.equal(loadConfig({}).TRAIN_THREADS, 1, 'one job per core by default: one thread each');
  assert.equal(loadConfig({ WORKER_CONCURRENCY: '1' }).TRAIN_THREADS, cores, 'one job at a time: every core');
  assert.equal(loadConfig({ WORKER_CONCURRENCY: String(2 * cores) }).TRAIN_THREADS, 1, 'more jobs than cores: still one thread');
  assert.equal(loadConfig({ TRAIN_THREADS: '1' }).TRAIN_THREADS, 1);
  assert.equal(loadConfig({ TRAIN_THREADS: 'share' }).TRAIN_THREADS, 'share');
  assert.throws(
    () => loadConfig({ WORKER_CONCURRENCY: '1', TRAIN_THREADS: String(cores + 1) }),
    (err: unknown) =>
      err instanceof ConfigError &&
      new RegExp(`TRAIN_THREADS=${cores + 1} with WORKER_CONCURRENCY=1 would run ${cores + 1} training threads on ${cores} cores`).test(err.message),
  );
  assert.throws(() => loadConfig({ WORKER_CONCURRENCY: String(cores), TRAIN_THREADS: '2' }), /set TRAIN_THREADS to 1 or less/);
  // the API trains nothing
  assert.equal(loadConfig({ ROLE: 'api', WORKER_CONCURRENCY: '1', TRAIN_THREADS: String(cores + 1) }).TRAIN_THREADS, cores + 1);
  for (const bad of ['0', '2.5', 'many', '257']) {
    assert.throws(() => loadConfig({ TRAIN_THREADS: bad }), (err: unknown) => err instanceof ConfigError && err.message.includes(`TRAIN_THREADS="${bad}"`), bad);
  }
  assert.throws(() => loadConfig({ TRAIN_ENGINE: 'gpu' }), /TRAIN_ENGINE="gpu"/);
});
