// The BN statistics log: appended durably from epoch 0, read back, reconciled after a crash like the
// epoch log (a torn last line, lines past the last saved epoch and repeats go), removed with its model.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createFsStore } from '../src/store/fs-store.js';
import type { BnStatsEpoch } from '../src/schemas/bn-stats.js';
import { modelRecord, tempDir } from './store-fixtures.js';

const q = (v: number) => [v, v, v, v, v];
const stats = (epoch: number): BnStatsEpoch => ({ epoch, layers: [{ layer: 0, units: 2, batchNorm: false, mean: q(epoch), std: q(1) }] });

test('the log holds epoch 0 on; reconcile keeps 0..lastSaved once, in order; deleting the model removes it', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await store.putModel(modelRecord('m_1'));
  const file = path.join(dir, 'models', 'm_1', 'bn-stats.jsonl');
  assert.deepEqual(await store.bnStats('m_1'), []);
  for (const e of [0, 1, 2, 3, 2]) await store.appendBnStats('m_1', stats(e));
  await fs.appendFile(file, '{"epoch":4,"lay');
  assert.deepEqual((await store.bnStats('m_1')).map((s) => s.epoch), [0, 1, 2, 3, 2], 'a torn line is not read');
  assert.deepEqual(await store.reconcileBnStats('m_1', 2), [stats(0), stats(1), stats(2)]);
  assert.equal(await fs.readFile(file, 'utf8'), [0, 1, 2].map((e) => `${JSON.stringify(stats(e))}\n`).join(''));
  const before = (await fs.stat(file)).mtimeMs;
  assert.deepEqual(await store.reconcileBnStats('m_1', 2), [stats(0), stats(1), stats(2)]);
  assert.equal((await fs.stat(file)).mtimeMs, before, 'a log in order is not rewritten');
  // A fresh start (nothing saved) keeps a logged epoch 0 only.
  assert.deepEqual(await store.reconcileBnStats('m_1', 0), [stats(0)]);
  assert.ok(await store.deleteModel('m_1'));
  assert.deepEqual(await store.bnStats('m_1'), []);
  await assert.rejects(fs.stat(file), { code: 'ENOENT' });
});
