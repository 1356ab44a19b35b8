import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createFsStore } from '../src/store/fs-store.js';
import { documentChunks, fromDocument, toDocument } from '../src/checkpoint/document.js';
import { namedTensors, tensorBytes } from '../src/checkpoint/checkpoint.js';
import { ModelGoneError, type Store } from '../src/store/store.js';
import { assertBitIdentical, checkpoint, checkpointDocument, listTree, modelRecord, tempDir, tfjsModel, trainingState } from './store-fixtures.js';

const ckptDir = (dir: string, modelId: string) => path.join(dir, 'models', modelId, 'checkpoints');

async function open(dir: string, ...models: string[]): Promise<Store> {
  const store = await createFsStore(dir);
  for (const m of models) await store.putModel(modelRecord(m));
  return store;
}

async function save(store: Store, modelId: string, epoch: number, seed = 1) {
  const c = checkpoint(modelId, epoch, seed);
  await store.putCheckpoint(c, trainingState(modelId, epoch), tfjsModel(c));
}

test('checkpoints round trip: tensors, training state and artifacts, floats bit-identical', async (t) => {
  const dir = await tempDir(t);
  const store = await open(dir, 'm_1');
  await save(store, 'm_1', 1);
  await save(store, 'm_1', 2);

  const back = await store.getCheckpoint('m_1', 2);
  assertBitIdentical(back, checkpoint('m_1', 2));
  assert.ok(back && back.layers[0].type === 'dense' && back.layers[0].kernel instanceof Float32Array);
  assertBitIdentical(await store.getTrainingState('m_1', 2), trainingState('m_1', 2));
  // Only the newest checkpoint keeps its optimizer state.
  assert.equal(await store.getTrainingState('m_1', 1), null);

  // weights.bin is the TF.js weights file: the tensors in the manifest's order, float32 little-endian.
  const weights = await store.getArtifact('m_1', 2, 'weights.bin');
  assert.ok(weights instanceof Uint8Array);
  const c = checkpoint('m_1', 2);
  const byName = new Map(namedTensors(c.layers).map((n) => [n.name, n.values]));
  const manifest = tfjsModel(c).weightsManifest[0].weights;
  const expected = Buffer.concat(manifest.map((w) => Buffer.from(byName.get(w.name)!.buffer.slice(0))));
  assert.ok(Buffer.from(weights).equals(expected), 'weights.bin follows the manifest');
  assert.equal(weights.byteLength, tensorBytes(c.layers));
  // model.json depends on the spec only: written with the first checkpoint, served for every epoch.
  const modelJson = await store.getArtifact('m_1', 2, 'model.json');
  assert.deepEqual(JSON.parse(Buffer.from(modelJson!).toString('utf8')), tfjsModel(checkpoint('m_1', 1)));

  assert.deepEqual(await listTree(path.join(ckptDir(dir, 'm_1'), '000002')), ['checkpoint.json', 'training-state.bin', 'weights.bin']);
  assert.deepEqual(await listTree(path.join(ckptDir(dir, 'm_1'), '000001')), ['checkpoint.json', 'weights.bin']);
  // checkpoint.json is small and readable: the document with references instead of values.
  const file = JSON.parse(await fs.readFile(path.join(ckptDir(dir, 'm_1'), '000002', 'checkpoint.json'), 'utf8'));
  assert.equal(file.format, 'bn-checkpoint/v2');
  assert.deepEqual(file.layers[0].kernel, { offset: file.layers[0].kernel.offset, shape: [2, 3] });
  assert.deepEqual(file.metrics, checkpoint('m_1', 2).metrics);
});

test('the served document streams exactly the JSON of the document, and parses back bit-identical', async (t) => {
  const store = await open(await tempDir(t), 'm_1');
  await save(store, 'm_1', 3, 7);
  const back = (await store.getCheckpoint('m_1', 3))!;
  const text = [...documentChunks(back)].join('');
  assert.equal(text, JSON.stringify(checkpointDocument('m_1', 3, 7)));
  assertBitIdentical(JSON.parse(text), checkpointDocument('m_1', 3, 7));
  const bn = JSON.parse([...documentChunks(back, { bnOnly: true })].join(''));
  assert.deepEqual(bn, { ...toDocument(back), layers: toDocument(back).layers.filter((l) => l.type === 'batchNorm') });
});

test('which BN statistics a checkpoint holds is kept in checkpoint.json and served in the document; an unknown value is refused', async (t) => {
  const dir = await tempDir(t);
  const store = await open(dir, 'm_1');
  const c = { ...checkpoint('m_1', 1), bnStatistics: 'precise' as const };
  await store.putCheckpoint(c, trainingState('m_1', 1), tfjsModel(c));
  const file = JSON.parse(await fs.readFile(path.join(ckptDir(dir, 'm_1'), '000001', 'checkpoint.json'), 'utf8'));
  assert.equal(file.bnStatistics, 'precise');
  const back = (await store.getCheckpoint('m_1', 1))!;
  assert.equal(back.bnStatistics, 'precise');
  const doc = JSON.parse([...documentChunks(back)].join(''));
  assert.equal(doc.bnStatistics, 'precise');
  assert.deepEqual(Object.keys(doc).slice(-2), ['bnStatistics', 'layers']);
  assert.deepEqual(fromDocument(doc).bnStatistics, 'precise');
  assert.throws(() => fromDocument({ ...doc, bnStatistics: 'batch' }), /bnStatistics: must be ema or precise/);
  // A checkpoint that does not say (an earlier version's, a model without BN) has none in its document.
  assert.equal('bnStatistics' in toDocument(checkpoint('m_1', 2)), false);
});

test('a deleted model takes no more checkpoints', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await assert.rejects(save(store, 'm_gone', 1), ModelGoneError);
  assert.deepEqual(await listTree(path.join(dir, 'models')), []);
});

test('listCheckpoints is ascending by epoch (numeric, past 6 digits) and latest is the highest', async (t) => {
  const store = await open(await tempDir(t), 'm_1');
  for (const epoch of [3, 1, 10, 2]) await save(store, 'm_1', epoch);
  const list = await store.listCheckpoints('m_1');
  assert.deepEqual(list.map((c) => c.epoch), [1, 2, 3, 10]);
  assert.deepEqual(list[3], { epoch: 10, createdAt: checkpoint('m_1', 10).createdAt, metrics: checkpoint('m_1', 10).metrics });
  assert.equal(await store.resolveEpoch('m_1', 'latest'), 10);
  await save(store, 'm_1', 1_234_567);
  assert.equal(await store.resolveEpoch('m_1', 'latest'), 1_234_567);
  assert.deepEqual((await store.listCheckpoints('m_1')).map((c) => c.epoch), [1, 2, 3, 10, 1_234_567]);
});

test('missing models, epochs and artifacts read as null / empty', async (t) => {
  const store = await open(await tempDir(t), 'm_1');
  assert.deepEqual(await store.listCheckpoints('m_none'), []);
  assert.equal(await store.resolveEpoch('m_none', 'latest'), null);
  await save(store, 'm_1', 1);
  assert.equal(await store.getCheckpoint('m_1', 2), null);
  assert.equal(await store.getTrainingState('m_1', 2), null);
  assert.equal(await store.getArtifact('m_1', 2, 'weights.bin'), null);
  for (const bad of [0, -1, 1.5, NaN, Infinity]) {
    assert.equal(await store.getCheckpoint('m_1', bad), null);
    assert.equal(await store.getTrainingState('m_1', bad), null);
    assert.equal(await store.getArtifact('m_1', bad, 'weights.bin'), null);
  }
  // Only the two artifact names are served, never training-state.bin or checkpoint.json through this door.
  assert.equal(await store.getArtifact('m_1', 1, 'checkpoint.json' as 'model.json'), null);
  assert.equal(await store.getArtifact('m_1', 1, '../../model.json' as 'model.json'), null);
});

test('leftovers of a crash mid-save are ignored and the previous checkpoint stays readable', async (t) => {
  const dir = await tempDir(t);
  const store = await open(dir, 'm_1');
  await save(store, 'm_1', 1);
  const cdir = ckptDir(dir, 'm_1');
  // A writer that died while filling its temporary directory...
  await fs.mkdir(path.join(cdir, '.tmp-999-deadbeef'));
  await fs.writeFile(path.join(cdir, '.tmp-999-deadbeef', 'weights.bin'), 'partial');
  await fs.writeFile(path.join(cdir, '.tmp-999-deadbeef', 'checkpoint.json'), JSON.stringify(checkpointDocument('m_1', 2)));
  // ...a stray temporary file, and an epoch directory without its document (not written by this store).
  await fs.writeFile(path.join(cdir, '.tmp-999-file'), 'x');
  await fs.mkdir(path.join(cdir, '000005'));
  await fs.writeFile(path.join(cdir, '000005', 'weights.bin'), 'partial');

  assert.deepEqual((await store.listCheckpoints('m_1')).map((c) => c.epoch), [1]);
  assert.equal(await store.resolveEpoch('m_1', 'latest'), 1);
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
  const store = await open(dir, 'm_1');
  const other = await createFsStore(dir); // stands for a second process sharing DATA_DIR
  await save(store, 'm_1', 3, 1);
  assertBitIdentical(await other.getCheckpoint('m_1', 3), checkpoint('m_1', 3, 1));
  await save(store, 'm_1', 3, 5); // e.g. an orphaned trainer of a job that another worker resumed
  assertBitIdentical(await store.getCheckpoint('m_1', 3), checkpoint('m_1', 3, 1));
  assertBitIdentical(await other.getCheckpoint('m_1', (await other.resolveEpoch('m_1', 'latest'))!), checkpoint('m_1', 3, 1));
  assert.deepEqual((await other.listCheckpoints('m_1')).map((c) => c.epoch), [3]);
  assert.deepEqual(await fs.readdir(ckptDir(dir, 'm_1')), ['000003']);
});

test('repeated reads return equal checkpoints from a bounded cache', async (t) => {
  const dir = await tempDir(t);
  await (await open(dir, 'm_1')).checkWritable();
  const store = await createFsStore(dir, { checkpointCacheEntries: 2 });
  for (let e = 1; e <= 5; e++) await save(store, 'm_1', e);
  for (let round = 0; round < 2; round++) {
    for (let e = 1; e <= 5; e++) assertBitIdentical(await store.getCheckpoint('m_1', e), checkpoint('m_1', e));
  }
});

test('concurrent saves of different epochs all land', async (t) => {
  const store = await open(await tempDir(t), 'm_1');
  await Promise.all([1, 2, 3, 4, 5, 6].map((e) => save(store, 'm_1', e)));
  assert.deepEqual((await store.listCheckpoints('m_1')).map((c) => c.epoch), [1, 2, 3, 4, 5, 6]);
});

test('inconsistent or non-finite checkpoints are refused and leave nothing behind', async (t) => {
  const dir = await tempDir(t);
  const store = await open(dir, 'm_1');
  await assert.rejects(store.putCheckpoint(checkpoint('m_1', 1), trainingState('m_1', 2)));
  await assert.rejects(store.putCheckpoint(checkpoint('m_1', 1), trainingState('m_2', 1)));
  await assert.rejects(store.putCheckpoint(checkpoint('m_1', 0), trainingState('m_1', 0)));
  const nan = checkpoint('m_1', 1);
  nan.metrics = { ...nan.metrics, loss: NaN };
  await assert.rejects(store.putCheckpoint(nan, trainingState('m_1', 1)), /non-finite/);
  assert.deepEqual(await store.listCheckpoints('m_1'), []);
  const leftovers = (await listTree(dir)).filter((p) => p.includes('.tmp-'));
  assert.deepEqual(leftovers, []);
});

test("an earlier version's checkpoint (the document with inline values, training-state.json) is read as it is", async (t) => {
  const dir = await tempDir(t);
  const store = await open(dir, 'm_old');
  const epochDir = path.join(ckptDir(dir, 'm_old'), '000004');
  await fs.mkdir(epochDir, { recursive: true });
  const doc = checkpointDocument('m_old', 4, 3);
  await fs.writeFile(path.join(epochDir, 'weights.bin'), Buffer.from(new Float32Array([1, 2]).buffer));
  await fs.writeFile(path.join(epochDir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: {} }));
  await fs.writeFile(
    path.join(epochDir, 'training-state.json'),
    JSON.stringify({
      format: 'bn-training-state/v1',
      modelId: 'm_old',
      epoch: 4,
      history: [],
      optimizer: { type: 'adam', weights: [{ name: 'iter', shape: [], values: [40] }, { name: 'dense_1/kernel/m', shape: [2], values: [0.5, -0.25] }] },
    }),
  );
  await fs.writeFile(path.join(epochDir, 'checkpoint.json'), JSON.stringify(doc));

  assert.deepEqual(await store.listCheckpoints('m_old'), [{ epoch: 4, createdAt: doc.createdAt, metrics: doc.metrics }]);
  assert.equal(await store.resolveEpoch('m_old', 'latest'), 4);
  const back = (await store.getCheckpoint('m_old', 4))!;
  assertBitIdentical(toDocument(back), doc);
  assert.equal([...documentChunks(back)].join(''), JSON.stringify(doc));
  const state = (await store.getTrainingState('m_old', 4))!;
  assert.equal(state.optimizer.iterations, 40);
  assert.deepEqual(state.optimizer.slots.map((s) => [s.name, Array.from(s.values)]), [['dense_1/kernel/m', [0.5, -0.25]]]);
  assert.deepEqual(JSON.parse(Buffer.from((await store.getArtifact('m_old', 4, 'model.json'))!).toString()), { format: 'layers-model', modelTopology: {} });
  // A newer save beside it takes the new layout.
  await save(store, 'm_old', 5);
  assert.deepEqual((await store.listCheckpoints('m_old')).map((c) => c.epoch), [4, 5]);
});
