// Retention, aliases and the model lock in the filesystem store: which checkpoints survive pruning, that
// a kept one is never rewritten and a pruned one leaves the listing before its files go, that an alias
// never names a missing checkpoint, and a pruner in another process racing alias changes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createFsStore } from '../src/store/fs-store.js';
import { AliasTargetError, type RetentionPolicy, type Store } from '../src/store/store.js';
import { STALE_MS } from '../src/store/model-lock.js';
import { checkpoint, listTree, metrics, modelRecord, tempDir, trainingState } from './store-fixtures.js';

const PRUNE_LOOP = fileURLToPath(new URL('./helpers/prune-loop.js', import.meta.url));

async function withCheckpoints(store: Store, modelId: string, losses: { loss: number; valLoss?: number }[]): Promise<void> {
  await store.putModel(modelRecord(modelId));
  for (const [i, l] of losses.entries()) {
    const c = checkpoint(modelId, i + 1);
    c.metrics = { ...metrics(i + 1), ...l };
    await store.putCheckpoint(c, trainingState(modelId, i + 1));
  }
}

const epochsOf = async (store: Store, modelId: string) => (await store.listCheckpoints(modelId)).map((c) => c.epoch);

test('retention keeps the newest keepLast, the keepBest best by valLoss (or loss), and every aliased epoch', async (t) => {
  const store = await createFsStore(await tempDir(t));
  // valLoss is lowest at epoch 3, then 2; loss is lowest at epoch 9.
  const losses = [5, 4, 3, 6, 7, 8, 9, 10, 1, 11].map((loss, i) => ({ loss, valLoss: [9, 2, 1, 8, 7, 6, 5, 4, 3, 10][i] }));
  await withCheckpoints(store, 'm_val', losses);
  await store.setAlias('m_val', 'production', 5);
  const policy: RetentionPolicy = { keepLast: 2, keepBest: 2, by: 'valLoss' };
  assert.deepEqual(await store.pruneCheckpoints('m_val', policy), [1, 4, 6, 7, 8]);
  assert.deepEqual(await epochsOf(store, 'm_val'), [2, 3, 5, 9, 10]);
  // Pruning again changes nothing; the training state stays with the newest.
  assert.deepEqual(await store.pruneCheckpoints('m_val', policy), []);
  assert.ok(await store.getTrainingState('m_val', 10));

  await withCheckpoints(store, 'm_loss', losses);
  assert.deepEqual(await store.pruneCheckpoints('m_loss', { keepLast: 1, keepBest: 1, by: 'loss' }), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(await epochsOf(store, 'm_loss'), [9, 10]);
});

test('a kept checkpoint is never rewritten; a pruned one is gone with its files; the epoch log is untouched', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await withCheckpoints(store, 'm_1', [{ loss: 3 }, { loss: 2 }, { loss: 1 }]);
  for (let e = 1; e <= 3; e++) await store.appendEpoch('m_1', metrics(e));
  const file = path.join(dir, 'models', 'm_1', 'checkpoints', '000003', 'checkpoint.json');
  const before = await fs.stat(file);
  assert.deepEqual(await store.pruneCheckpoints('m_1', { keepLast: 1, keepBest: 0, by: 'loss' }), [1, 2]);
  const after = await fs.stat(file);
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.deepEqual(await listTree(path.join(dir, 'models', 'm_1', 'checkpoints')), [
    '000003',
    '000003/checkpoint.json',
    '000003/training-state.bin',
    '000003/weights.bin',
  ]);
  assert.equal(await store.getCheckpoint('m_1', 1), null);
  assert.deepEqual((await store.readEpochs('m_1')).records.map((r) => r.epoch), [1, 2, 3], 'every epoch keeps its metrics');
});

test('aliases: set, resolve, delete; never to a checkpoint that does not exist or was pruned', async (t) => {
  const store = await createFsStore(await tempDir(t));
  await withCheckpoints(store, 'm_1', [{ loss: 3 }, { loss: 2 }, { loss: 1 }]);
  await store.setAlias('m_1', 'staging', 2);
  await store.setAlias('m_1', 'production', 1);
  assert.deepEqual(await store.getAliases('m_1'), { staging: 2, production: 1 });
  assert.equal(await store.resolveEpoch('m_1', 'staging'), 2);
  assert.equal(await store.resolveEpoch('m_1', 'nope'), null);
  await assert.rejects(store.setAlias('m_1', 'future', 4), AliasTargetError);
  await assert.rejects(store.setAlias('m_1', 'latest', 1), /invalid alias name/);
  assert.equal(await store.deleteAlias('m_1', 'production'), true);
  assert.equal(await store.deleteAlias('m_1', 'production'), false);
  assert.deepEqual(await store.pruneCheckpoints('m_1', { keepLast: 1, keepBest: 0, by: 'loss' }), [1]);
  await assert.rejects(store.setAlias('m_1', 'production', 1), AliasTargetError);
  assert.deepEqual(await epochsOf(store, 'm_1'), [2, 3]);
  assert.deepEqual(await store.getAliases('m_1'), { staging: 2 });
});

test('while aliases change (the lock is held) retention waits; a lock left by a dead process is broken', async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await withCheckpoints(store, 'm_1', [{ loss: 3 }, { loss: 2 }, { loss: 1 }]);
  const lockFile = path.join(dir, 'models', 'm_1', '.lock');
  await fs.writeFile(lockFile, JSON.stringify({ pid: 1, host: 'elsewhere' }));
  const policy: RetentionPolicy = { keepLast: 1, keepBest: 0, by: 'loss' };
  assert.deepEqual(await store.pruneCheckpoints('m_1', policy), [], 'pruning is deferred while the lock is held');
  assert.deepEqual(await epochsOf(store, 'm_1'), [1, 2, 3]);
  // Older than the stale bound: whoever held it died; the next taker breaks it.
  const old = new Date(Date.now() - STALE_MS - 1000);
  await fs.utimes(lockFile, old, old);
  await store.setAlias('m_1', 'kept', 1);
  assert.deepEqual(await store.pruneCheckpoints('m_1', policy), [2]);
  assert.deepEqual(await epochsOf(store, 'm_1'), [1, 3]);
  await assert.rejects(fs.access(lockFile), 'the lock is released after each use');
});

test('a pruner in another process racing alias changes: an alias always names a checkpoint that exists', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const store = await createFsStore(dir);
  await store.putModel(modelRecord('m_race'));
  // The child saves epoch after epoch and prunes after each to the newest one only (keepBest 0), as a
  // training child does; meanwhile this process pins recent epochs with aliases.
  const child = spawn(process.execPath, [PRUNE_LOOP, dir, 'm_race', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.after(() => void (child.exitCode === null && child.kill('SIGKILL')));

  const accepted: [string, number][] = [];
  let refused = 0;
  for (let k = 0; child.exitCode === null && k < 2000; k++) {
    const latest = await store.resolveEpoch('m_race', 'latest');
    if (latest === null) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    const name = `pin${k}`;
    try {
      await store.setAlias('m_race', name, latest);
      accepted.push([name, latest]);
      // An accepted alias names a checkpoint that is there now, and stays there: retention keeps it.
      assert.equal(await store.hasCheckpoint('m_race', latest), true, `${name} -> ${latest} right after it was set`);
    } catch (err) {
      if (!(err instanceof AliasTargetError)) throw err;
      refused++;
    }
  }
  assert.equal(await exited, 0, output);
  assert.ok(accepted.length > 0, `no alias was accepted (${refused} refused)`);
  for (const [name, epoch] of accepted) {
    assert.equal(await store.resolveEpoch('m_race', name), epoch, `${name} lost its checkpoint ${epoch}`);
  }
  t.diagnostic(`${accepted.length} aliases accepted, ${refused} refused (their checkpoint was pruned first)`);
});
