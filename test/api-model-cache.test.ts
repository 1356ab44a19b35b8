// The prediction path's model cache: a hit needs no await, 'latest' follows new checkpoints, and the least
// recently used model is the one evicted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createFsStore } from '../src/store/fs-store.js';
import type { Store } from '../src/store/store.js';
import { createFoldedEngine } from '../src/inference/index.js';
import { ModelCache } from '../src/api/plugins/app/model-cache.js';
import { putTrainedModel } from './api-helpers.js';

let dir: string;
let store: Store;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-cache-'));
  store = await createFsStore(dir);
  for (const id of ['mdl_a', 'mdl_b', 'mdl_c']) await putTrainedModel(store, id, { inputDim: 2, hidden: [3], task: 'binary' });
});

after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('peek answers only what get() loaded, by epoch and by latest', async () => {
  const cache = new ModelCache(store, createFoldedEngine(), 2);
  assert.equal(cache.peek('mdl_a', 'latest'), undefined);
  const loaded = await cache.get('mdl_a', 'latest');
  assert.equal(cache.peek('mdl_a', 'latest'), loaded);
  assert.equal(cache.peek('mdl_a', 1), loaded);
  assert.equal(cache.peek('mdl_a', 2), undefined);
  assert.equal(await cache.get('mdl_a', 1), loaded);
});

test('the least recently used model is evicted, and a peek counts as a use', async () => {
  const cache = new ModelCache(store, createFoldedEngine(), 2);
  const a = await cache.get('mdl_a', 1);
  await cache.get('mdl_b', 1);
  assert.equal(cache.peek('mdl_a', 1), a); // a is now more recent than b
  await cache.get('mdl_c', 1); // evicts b
  assert.equal(cache.peek('mdl_a', 1), a);
  assert.equal(cache.peek('mdl_b', 1), undefined);
  assert.ok(cache.peek('mdl_c', 1));
});

test('unknown models are 404 and a model is loaded once however many ask at once', async () => {
  const cache = new ModelCache(store, createFoldedEngine(), 4);
  await assert.rejects(() => cache.get('mdl_missing', 'latest'), (err: { statusCode?: number }) => err.statusCode === 404);
  const [x, y] = await Promise.all([cache.get('mdl_b', 1), cache.get('mdl_b', 1)]);
  assert.equal(x, y);
});
