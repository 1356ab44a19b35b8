// Fault: SIGKILL of a process in the middle of a checkpoint save. A real child process saves large
// checkpoints through createFsStore in a tight loop; it is killed at moments drawn from a seeded PRNG
// (KILL_SEED: a failure reproduces with the same moments) within its saves. After every kill the store
// lists only complete checkpoints, 1..M without a gap, each one bit-identical to what was saved, and the
// newest one keeps the optimizer state a resume needs.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createFsStore } from '../src/store/fs-store.js';
import { createPrng } from '../src/util/prng.js';
import { encodeCheckpoint } from '../src/store/checkpoint-files.js';
import { assertBitIdentical } from './store-fixtures.js';
import { loopCheckpoint, loopState, loopTfjs } from './helpers/save-loop.js';
import { isAlive, range1, sleep, tail, tempDataDir } from './helpers/service-process.js';

const SCRIPT = fileURLToPath(new URL('./helpers/save-loop.js', import.meta.url));
const MODEL = 'mdl_savekill';
const KILLS = 6;
/** The kill moments' seed; printed with every kill so that a failing run can be repeated exactly. */
const KILL_SEED = 20_240_611;

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
  // Whatever is not an epoch directory must be a writer's temporary directory, which readers skip.
  for (const n of leftovers) assert.match(n, /^\.tmp-/, `unexpected entry ${n} in ${cdir}`);
  // Every epoch directory on disk is complete: its document and weights (the newest also its optimizer
  // state; an older one may keep its own when the kill came between the save and the drop of the old state).
  for (const [i, name] of epochDirs.entries()) {
    const files = (await fs.readdir(path.join(cdir, name))).sort();
    const newest = i === epochDirs.length - 1;
    const expected = ['checkpoint.json', 'training-state.bin', 'weights.bin'];
    if (newest) assert.deepEqual(files, expected, `epoch directory ${name} is incomplete`);
    else assert.ok(files.join() === expected.join() || files.join() === 'checkpoint.json,weights.bin', `epoch directory ${name}: ${files.join()}`);
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
  assert.equal(await store.resolveEpoch(MODEL, 'latest'), top === 0 ? null : top);

  for (const epoch of listed) {
    assertBitIdentical(await store.getCheckpoint(MODEL, epoch), loopCheckpoint(MODEL, epoch), `checkpoint ${epoch}`);
  }
  // The newest checkpoint in full: what a resume reads (training state), and the TF.js artifacts.
  if (top > 0) {
    assertBitIdentical(await store.getTrainingState(MODEL, top), loopState(MODEL, top), `state ${top}`);
    const weights = await store.getArtifact(MODEL, top, 'weights.bin');
    assert.ok(weights, `weights.bin of ${top} missing`);
    const expected = loopCheckpoint(MODEL, top);
    assert.ok(Buffer.from(weights).equals(Buffer.concat(encodeCheckpoint(expected, loopTfjs(expected)).weights)), `weights.bin of ${top} differs`);
    const modelJson = await store.getArtifact(MODEL, top, 'model.json');
    assert.deepEqual(JSON.parse(Buffer.from(modelJson!).toString('utf8')), loopTfjs(expected));
  }
  return { epochs: listed, leftovers };
}

test('SIGKILL during checkpoint saves never leaves half a checkpoint; the previous one stays intact', { timeout: 60_000 }, async (t) => {
  const dataDir = await tempDataDir('bn-savekill-');
  dirs.push(dataDir);
  let next = 1;
  let midSave = 0;
  const delays: number[] = [];
  const moments = createPrng(KILL_SEED);
  let typicalSaveMs = 40;
  for (let k = 0; k < KILLS; k++) {
    const run = startLoop(dataDir, next);
    // Let it complete at least one save (the "previous" checkpoint), then kill it inside a later one.
    await run.waitFor(() => run.lastSaved() >= next, 20_000);
    if (run.saveMs.length > 0) typicalSaveMs = Math.max(2, run.saveMs[0]);
    const target = run.lastSaved() + 1;
    await run.waitFor(() => run.lastBegun() >= target, 20_000);
    const delay = moments.next() * typicalSaveMs;
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
      `kill ${k + 1} (seed ${KILL_SEED}): after ${delays[k]} ms of save ${run.lastBegun()} (saves take ~${typicalSaveMs.toFixed(0)} ms); ` +
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
