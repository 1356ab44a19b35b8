// Fault: SIGKILL of a process in the middle of a checkpoint save. A real child process saves large
// checkpoints through createFsStore in a tight loop; it is killed at random moments during its saves.
// After every kill the store lists only complete checkpoints, 1..M without a gap, each one bit-identical
// to what was saved, and the last checkpoint reported saved before the kill is intact.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createFsStore } from '../src/store/fs-store.js';
import { assertBitIdentical } from './store-fixtures.js';
import { loopArtifacts, loopCheckpoint, loopState } from './helpers/save-loop.js';
import { isAlive, range1, sleep, tail, tempDataDir } from './helpers/service-process.js';

const SCRIPT = fileURLToPath(new URL('./helpers/save-loop.js', import.meta.url));
const MODEL = 'mdl_savekill';
const KILLS = 6;

const children = new Set<ChildProcess>();
const dirs: string[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

interface LoopRun {
  child: ChildProcess;
  /** Last "saved N" line. */
  lastSaved: () => number;
  /** Epoch of the last "begin N" line. */
  lastBegun: () => number;
  saveMs: number[];
  output: () => string;
  waitFor: (pred: () => boolean, timeoutMs: number) => Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startLoop(dataDir: string, first: number, last?: number): LoopRun {
  const args = [SCRIPT, dataDir, MODEL, String(first), ...(last === undefined ? [] : [String(last)])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let pending = '';
  let lastSaved = first - 1;
  let lastBegun = 0;
  const saveMs: number[] = [];
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const [word, n, ms] = pending.slice(0, nl).split(' ');
      pending = pending.slice(nl + 1);
      if (word === 'begin') lastBegun = Number(n);
      if (word === 'saved') {
        lastSaved = Number(n);
        saveMs.push(Number(ms));
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      for (const w of waiters) w();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    lastSaved: () => lastSaved,
    lastBegun: () => lastBegun,
    saveMs,
    output: () => out,
    exited,
    waitFor: (pred, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pred()) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`save loop exited early\n${tail(out)}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`save loop: condition not met within ${timeoutMs} ms\n${tail(out)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

/** Everything a reader can see after the crash, checked against what the writer meant to write. */
async function checkStore(dataDir: string, lastSaved: number, lastBegun: number): Promise<{ epochs: number[]; leftovers: string[] }> {
  const cdir = path.join(dataDir, 'models', MODEL, 'checkpoints');
  const names = await fs.readdir(cdir);
  const epochDirs = names.filter((n) => /^\d{6,}$/.test(n)).sort();
  const leftovers = names.filter((n) => !/^\d{6,}$/.test(n));
  // Whatever is not an epoch directory must be a writer's temporary or set-aside name, which readers skip.
  for (const n of leftovers) assert.match(n, /^\.(tmp|old)-/, `unexpected entry ${n} in ${cdir}`);
  // Every epoch directory on disk is complete: the four files, each parseable / of the right size.
  for (const name of epochDirs) {
    const files = (await fs.readdir(path.join(cdir, name))).sort();
    assert.deepEqual(files, ['checkpoint.json', 'model.json', 'training-state.json', 'weights.bin'], `epoch directory ${name} is incomplete`);
    const text = await fs.readFile(path.join(cdir, name, 'checkpoint.json'), 'utf8');
    assert.equal(JSON.parse(text).epoch, Number(name));
  }

  // A fresh store (a new process would open one) sees the same complete, gap-free sequence.
  const store = await createFsStore(dataDir);
  const listed = (await store.listCheckpoints(MODEL)).map((c) => c.epoch);
  assert.deepEqual(listed, epochDirs.map(Number), 'the store lists exactly the complete directories');
  const top = listed.length === 0 ? 0 : listed[listed.length - 1];
  assert.deepEqual(listed, range1(top), `checkpoints have a gap: ${listed.join(',')}`);
  // Nothing reported saved was lost; at most the save in flight made it (killed after its final rename).
  assert.ok(top >= lastSaved, `checkpoint ${lastSaved} was reported saved but the store's latest is ${top}`);
  assert.ok(top <= Math.max(lastSaved, lastBegun), `checkpoint ${top} exists but its save never began`);
  assert.equal((await store.getCheckpoint(MODEL, 'latest'))?.epoch, top === 0 ? undefined : top);

  for (const epoch of listed) {
    assertBitIdentical(await store.getCheckpoint(MODEL, epoch), loopCheckpoint(MODEL, epoch), `checkpoint ${epoch}`);
  }
  // The previous checkpoint (the last one reported saved) in full: document, training state, artifacts.
  if (lastSaved > 0) {
    assertBitIdentical(await store.getTrainingState(MODEL, lastSaved), loopState(MODEL, lastSaved), `state ${lastSaved}`);
    const weights = await store.getArtifact(MODEL, lastSaved, 'weights.bin');
    assert.ok(weights, `weights.bin of ${lastSaved} missing`);
    assert.ok(Buffer.from(weights).equals(Buffer.from(loopArtifacts(lastSaved).weightsBin)), `weights.bin of ${lastSaved} differs`);
    const modelJson = await store.getArtifact(MODEL, lastSaved, 'model.json');
    assert.deepEqual(JSON.parse(Buffer.from(modelJson!).toString('utf8')), loopArtifacts(lastSaved).modelJson);
  }
  return { epochs: listed, leftovers };
}

test('SIGKILL during checkpoint saves never leaves half a checkpoint; the previous one stays intact', { timeout: 60_000 }, async (t) => {
  const dataDir = await tempDataDir('bn-savekill-');
  dirs.push(dataDir);
  let next = 1;
  let midSave = 0;
  const delays: number[] = [];
  let typicalSaveMs = 40;
  for (let k = 0; k < KILLS; k++) {
    const run = startLoop(dataDir, next);
    // Let it complete at least one save (the "previous" checkpoint), then kill it inside a later one.
    await run.waitFor(() => run.lastSaved() >= next, 20_000);
    if (run.saveMs.length > 0) typicalSaveMs = Math.max(2, run.saveMs[0]);
    const target = run.lastSaved() + 1;
    await run.waitFor(() => run.lastBegun() >= target, 20_000);
    const delay = Math.random() * typicalSaveMs;
    delays.push(Math.round(delay * 10) / 10);
    if (delay >= 1) await sleep(delay);
    const wasSaving = run.lastBegun() > run.lastSaved();
    run.child.kill('SIGKILL');
    const exit = await run.exited;
    assert.equal(exit.signal, 'SIGKILL', `the save loop was not killed (it exited ${exit.code})\n${tail(run.output())}`);
    assert.equal(isAlive(run.child.pid!), false);
    if (wasSaving) midSave++;

    const { epochs, leftovers } = await checkStore(dataDir, run.lastSaved(), run.lastBegun());
    t.diagnostic(
      `kill ${k + 1}: after ${delays[k]} ms of save ${run.lastBegun()} (saves take ~${typicalSaveMs.toFixed(0)} ms); ` +
        `store 1..${epochs.length}, ${leftovers.length} leftover(s)`,
    );
    next = epochs.length + 1;
  }
  // Most kills must have landed inside a save, or the test proved nothing.
  assert.ok(midSave >= KILLS / 2, `only ${midSave} of ${KILLS} kills landed during a save (delays ${delays.join(', ')})`);

  // The store still works after all these crashes: a last writer saves one more epoch and exits cleanly.
  const final = startLoop(dataDir, next, next);
  const exit = await final.exited;
  assert.equal(exit.code, 0, tail(final.output()));
  const { epochs } = await checkStore(dataDir, next, next);
  assert.deepEqual(epochs, range1(next));
});
