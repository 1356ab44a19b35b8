import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createFsStore } from '../src/store/fs-store.js';
import { artifacts, assertBitIdentical, checkpoint, listTree, tempDir, trainingState } from './store-fixtures.js';

const ckptDir = (dir: string, modelId: string) => path.join(dir, 'models', modelId, 'checkpoints');

async function save(store: Awaited<ReturnType<typeof createFsStore>>, modelId: string, epoch: number, seed = 1) {
  await store.putCheckpoint(checkpoint(modelId, epoch, seed), trainingState(modelId, epoch), artifacts(epoch));
}

test('checkpoints round trip: document, training state and artifacts, floats bit-identical', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await save(store, 'm_1', 1);
  await save(store, 'm_1', 2);

  const doc = await store.getCheckpoint('m_1', 2);
  assertBitIdentical(doc, checkpoint('m_1', 2));
  assertBitIdentical(await store.getTrainingState('m_1', 2), trainingState('m_1', 2));
  const weights = await store.getArtifact('m_1', 2, 'weights.bin');
  assert.ok(weights instanceof Uint8Array);
  assert.deepEqual(Buffer.from(weights), Buffer.from(artifacts(2).weightsBin));
  const modelJson = await store.getArtifact('m_1', 2, 'model.json');
  assert.deepEqual(JSON.parse(Buffer.from(modelJson!).toString('utf8')), artifacts(2).modelJson);

  assert.deepEqual(await listTree(path.join(ckptDir(dir, 'm_1'), '000002')), [
    'checkpoint.json',
    'model.json',
    'training-state.json',
    'weights.bin',
  ]);
});

test('listCheckpoints is ascending by epoch (numeric, past 6 digits) and latest is the highest', async (t) => {
  const store = await createFsStore(await tempDir(t));
  for (const epoch of [3, 1, 10, 2]) await save(store, 'm_1', epoch);
  const list = await store.listCheckpoints('m_1');
  assert.deepEqual(list.map((c) => c.epoch), [1, 2, 3, 10]);
  assert.deepEqual(list[3], { epoch: 10, createdAt: checkpoint('m_1', 10).createdAt, metrics: checkpoint('m_1', 10).metrics });
  assert.equal((await store.getCheckpoint('m_1', 'latest'))?.epoch, 10);
  await save(store, 'm_1', 1_234_567);
  assert.equal((await store.getCheckpoint('m_1', 'latest'))?.epoch, 1_234_567);
  assert.deepEqual((await store.listCheckpoints('m_1')).map((c) => c.epoch), [1, 2, 3, 10, 1_234_567]);
});

test('missing models, epochs and artifacts read as null / empty', async (t) => {
  const store = await createFsStore(await tempDir(t));
  assert.deepEqual(await store.listCheckpoints('m_none'), []);
  assert.equal(await store.getCheckpoint('m_none', 'latest'), null);
  await save(store, 'm_1', 1);
  assert.equal(await store.getCheckpoint('m_1', 2), null);
  assert.equal(await store.getTrainingState('m_1', 2), null);
  assert.equal(await store.getArtifact('m_1', 2, 'weights.bin'), null);
  for (const bad of [0, -1, 1.5, NaN, Infinity]) {
    assert.equal(await store.getCheckpoint('m_1', bad), null);
    assert.equal(await store.getTrainingState('m_1', bad), null);
    assert.equal(await store.getArtifact('m_1', bad, 'weights.bin'), null);
  }
  // Only the two artifact names are served, never training-state.json or checkpoint.json through this door.
  assert.equal(await store.getArtifact('m_1', 1, 'checkpoint.json' as 'model.json'), null);
  assert.equal(await store.getArtifact('m_1', 1, '../../model.json' as 'model.json'), null);
});

test('leftovers of a crash mid-save are ignored and the previous checkpoint stays readable', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await save(store, 'm_1', 1);
  const cdir = ckptDir(dir, 'm_1');
  // A writer that died while filling its temporary directory...
  await fs.mkdir(path.join(cdir, '.tmp-999-deadbeef'));
  await fs.writeFile(path.join(cdir, '.tmp-999-deadbeef', 'weights.bin'), 'partial');
  await fs.writeFile(path.join(cdir, '.tmp-999-deadbeef', 'checkpoint.json'), JSON.stringify(checkpoint('m_1', 2)));
  // ...a stray temporary file, and an epoch directory without its document (not written by this store).
  await fs.writeFile(path.join(cdir, '.tmp-999-file'), 'x');
  await fs.mkdir(path.join(cdir, '000005'));
  await fs.writeFile(path.join(cdir, '000005', 'weights.bin'), 'partial');

  assert.deepEqual((await store.listCheckpoints('m_1')).map((c) => c.epoch), [1]);
  assert.equal((await store.getCheckpoint('m_1', 'latest'))?.epoch, 1);
  assertBitIdentical(await store.getCheckpoint('m_1', 1), checkpoint('m_1', 1));
  assert.equal(await store.getCheckpoint('m_1', 5), null);

  // A later save sweeps leftovers that are old enough (no live writer can own them) and keeps young ones.
  const old = new Date(Date.now() - 3600_000);
  await fs.utimes(path.join(cdir, '.tmp-999-deadbeef'), old, old);
  await save(store, 'm_1', 2);
  assert.deepEqual(await fs.readdir(cdir).then((n) => n.sort()), ['.tmp-999-file', '000001', '000002', '000005'].sort());
});

test('a saved epoch is immutable: saving it again keeps the first document whole', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  const other = await createFsStore(dir); // stands for a second process sharing DATA_DIR
  await save(store, 'm_1', 3, 1);
  assertBitIdentical(await other.getCheckpoint('m_1', 3), checkpoint('m_1', 3, 1));
  await save(store, 'm_1', 3, 5); // e.g. an orphaned trainer of a job that another worker resumed
  assertBitIdentical(await store.getCheckpoint('m_1', 3), checkpoint('m_1', 3, 1));
  assertBitIdentical(await other.getCheckpoint('m_1', 'latest'), checkpoint('m_1', 3, 1));
  assert.deepEqual((await other.listCheckpoints('m_1')).map((c) => c.epoch), [3]);
  assert.deepEqual(await fs.readdir(ckptDir(dir, 'm_1')), ['000003']);
});

test('repeated reads return equal documents from a bounded cache', async (t) => {
  const store = await createFsStore(await tempDir(t), { checkpointCacheEntries: 2 });
  for (let e = 1; e <= 5; e++) await save(store, 'm_1', e);
  for (let round = 0; round < 2; round++) {
    for (let e = 1; e <= 5; e++) assertBitIdentical(await store.getCheckpoint('m_1', e), checkpoint('m_1', e));
  }
});

test('concurrent saves of different epochs all land', async (t) => {
  const store = await createFsStore(await tempDir(t));
  await Promise.all([1, 2, 3, 4, 5, 6].map((e) => save(store, 'm_1', e)));
  assert.deepEqual((await store.listCheckpoints('m_1')).map((c) => c.epoch), [1, 2, 3, 4, 5, 6]);
});

test('inconsistent or non-finite checkpoints are refused and leave nothing behind', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await assert.rejects(store.putCheckpoint(checkpoint('m_1', 1), trainingState('m_1', 2), artifacts(1)));
  await assert.rejects(store.putCheckpoint(checkpoint('m_1', 1), trainingState('m_2', 1), artifacts(1)));
  await assert.rejects(store.putCheckpoint({ ...checkpoint('m_1', 0) }, trainingState('m_1', 0), artifacts(1)));
  const nan = checkpoint('m_1', 1);
  nan.metrics = { ...nan.metrics, loss: NaN };
  await assert.rejects(store.putCheckpoint(nan, trainingState('m_1', 1), artifacts(1)), /non-finite/);
  assert.deepEqual(await store.listCheckpoints('m_1'), []);
  const leftovers = (await listTree(dir)).filter((p) => p.includes('.tmp-'));
  assert.deepEqual(leftovers, []);
});
