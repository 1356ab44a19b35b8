// The per-model epoch log: appended durably, read from any offset, and reconciled after a crash so that it
// holds epochs 1..lastSaved exactly once.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createFsStore } from '../src/store/fs-store.js';
import { metrics, modelRecord, tempDir } from './store-fixtures.js';

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await store.putModel(modelRecord('m_1'));
  return { store, file: path.join(dir, 'models', 'm_1', 'epochs.jsonl') };
}

test('lines are appended one per epoch and read back from any offset; a torn last line is not read', async (t) => {
  const { store, file } = await setup(t);
  for (let e = 1; e <= 3; e++) await store.appendEpoch('m_1', metrics(e));
  const all = await store.readEpochs('m_1');
  assert.deepEqual(all.records, [metrics(1), metrics(2), metrics(3)]);
  await store.appendEpoch('m_1', metrics(4));
  const more = await store.readEpochs('m_1', all.nextByte);
  assert.deepEqual(more.records, [metrics(4)]);
  await fs.appendFile(file, '{"epoch":5,"lo');
  const torn = await store.readEpochs('m_1', more.nextByte);
  assert.deepEqual(torn, { records: [], nextByte: more.nextByte });
  // An offset past the end (the file was rewritten shorter) reads from the start.
  assert.equal((await store.readEpochs('m_1', 10_000_000)).records.length, 4);
});

test('reconcile drops a torn line, repeats and epochs past the last checkpoint, and restores a missing last one', async (t) => {
  const { store, file } = await setup(t);
  // A crash between a save and its append lost epoch 3's line; a retried attempt repeated epoch 2 and
  // got as far as appending epoch 4 before a checkpoint of it existed, then was killed mid-line.
  const lines = [metrics(1), metrics(2), metrics(2), metrics(4)].map((m) => JSON.stringify(m)).join('\n');
  await fs.writeFile(file, `${lines}\n{"epoch":5`);
  const kept = await store.reconcileEpochs('m_1', 3, metrics(3));
  assert.deepEqual(kept, [metrics(1), metrics(2), metrics(3)]);
  assert.deepEqual((await store.readEpochs('m_1')).records, kept);
  assert.equal((await fs.readFile(file, 'utf8')).split('\n').length, 4, 'three lines and the final newline');
});

test('reconcile leaves a log that is already right as it is (no rewrite)', async (t) => {
  const { store, file } = await setup(t);
  for (let e = 1; e <= 2; e++) await store.appendEpoch('m_1', metrics(e));
  const before = await fs.stat(file);
  assert.deepEqual(await store.reconcileEpochs('m_1', 2, metrics(2)), [metrics(1), metrics(2)]);
  const after = await fs.stat(file);
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.deepEqual(await store.reconcileEpochs('m_1', 0), []);
});
