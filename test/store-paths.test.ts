import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createFsStore, isStorableId } from '../src/store/fs-store.js';
import { checkpoint, checkpointDocument, listTree, modelRecord, tempDir, trainingState } from './store-fixtures.js';

const HOSTILE = [
  '../x',
  '..%2Fx',
  'a/b',
  'a\u0000b',
  '%2e%2e',
  '..',
  '.',
  '',
  '../../outside',
  'a\\b',
  '/etc/passwd',
  ' x',
  'x'.repeat(129),
  'builtin:blobs',
  'ds_ok\n',
];

test('isStorableId accepts only [A-Za-z0-9_-]{1,128}', () => {
  for (const ok of ['a', 'ds_AbC-123', 'x'.repeat(128)]) assert.equal(isStorableId(ok), true, ok);
  for (const bad of HOSTILE) assert.equal(isStorableId(bad), false, JSON.stringify(bad));
  assert.equal(isStorableId(42), false);
});

test('hostile ids read as null, writes throw, and nothing is touched outside the data directory', async (t) => {
  const base = await tempDir(t);
  const dir = path.join(base, 'data');
  const store = await createFsStore(dir);
  // Bait files where a traversal would land.
  await fs.writeFile(path.join(base, 'x.json'), JSON.stringify({ id: 'bait' }));
  await fs.writeFile(path.join(base, 'x.data.json'), JSON.stringify({ features: [[1]], labels: [1] }));
  await fs.mkdir(path.join(base, 'x', 'checkpoints', '000001'), { recursive: true });
  await fs.writeFile(path.join(base, 'x', 'model.json'), JSON.stringify(modelRecord('x')));
  await fs.writeFile(path.join(base, 'x', 'checkpoints', '000001', 'checkpoint.json'), JSON.stringify(checkpointDocument('x', 1)));
  const before = await listTree(base);

  for (const id of HOSTILE) {
    const label = JSON.stringify(id);
    assert.equal(await store.getDatasetInfo(id), null, label);
    assert.equal(await store.getDatasetData(id), null, label);
    assert.equal(await store.openDatasetPart(id, 'train'), null, label);
    assert.equal(await store.deleteDataset(id), false, label);
    assert.equal(await store.getModel(id), null, label);
    assert.equal(await store.deleteModel(id), false, label);
    assert.equal(await store.deleteDataset(id), false, label);
    assert.deepEqual(await store.listCheckpoints(id), [], label);
    assert.equal(await store.resolveEpoch(id, 'latest'), null, label);
    assert.deepEqual((await store.readEpochs(id)).records, [], label);
    assert.deepEqual(await store.getAliases(id), {}, label);
    assert.equal(await store.getCheckpoint(id, 1), null, label);
    assert.equal(await store.getTrainingState(id, 1), null, label);
    assert.equal(await store.getArtifact(id, 1, 'weights.bin'), null, label);
    const info = {
      id,
      rows: 1,
      features: 1,
      stats: { mean: [1], std: [0], min: [1], max: [1] },
      storage: { features: 'float32' as const, scale: 1 },
      createdAt: '2024-01-01T00:00:00.000Z',
    };
    const part = { rows: 1, features: 1, x: Float32Array.from([1]), scale: 1, y: Float32Array.from([1]) };
    await assert.rejects(store.putDataset(info, { train: part }), /invalid/, label);
    await assert.rejects(store.createDatasetWriter(id), /invalid/, label);
    await assert.rejects(store.putModel(modelRecord(id)), /invalid/, label);
    await assert.rejects(
      store.putCheckpoint(checkpoint(id, 1), trainingState(id, 1)),
      /invalid/,
      label,
    );
  }
  assert.deepEqual(await listTree(base), before);
  assert.deepEqual(await listTree(dir), ['datasets', 'models']);
});
