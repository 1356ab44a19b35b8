// Every training engine takes the loop step's steps: over 20 steps (batches of two sizes), weights, moving
// statistics and optimizer slots agree within 1e-5 for each optimizer, BN placement and no BN; the same
// run twice on the same engine is bit-identical; the tensor-ops step reads the host once per step; the
// onnx step runs on the threads it is given; auto picks the engine by backend and size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, resolveSpec, resolveTraining, train, type SavedCheckpoint } from '../src/model/index.js';
import { pack, type Packed } from '../src/model/data.js';
import { createNetwork, disposeNetwork, namedVariables, type Network } from '../src/model/network.js';
import { createOptimizer, saveOptimizer } from '../src/model/optimizer.js';
import { autoEngine, configureTrainEngine, createTrainStep, ONNX_TRAIN_MIN_MULTIPLY_ADDS, type TrainEngineName } from '../src/model/train-step.js';
import type { ModelRequest, ResolvedTraining } from '../src/schemas/model-spec.js';
import { joinCoreShare } from '../src/model/engines/core-share.js';
import { createPrng } from '../src/util/prng.js';
import { maxAbsDiff, randomMatrix, toPart } from './model-helpers.js';

before(async () => {
  await initBackend('wasm');
});

after(async () => {
  configureTrainEngine({ engine: 'auto', threads: 1 });
  await tf.setBackend('wasm');
});

const STEPS = 20;

interface Variant {
  model: ModelRequest;
  optimizer: ResolvedTraining['optimizer'];
}

const variants: Variant[] = [
  { model: { hidden: [12, 6], task: 'multiclass' }, optimizer: 'adam' },
  { model: { hidden: [10, 5], task: 'binary', batchNorm: { placement: 'after-activation', varianceEstimator: 'unbiased' } }, optimizer: 'momentum' },
  { model: { hidden: [9], task: 'regression', activation: 'tanh', batchNorm: { enabled: false } }, optimizer: 'sgd' },
  { model: { hidden: [8, 8], task: 'binary', activation: 'sigmoid', batchNorm: { enabled: false } }, optimizer: 'adam' },
  // Not 'linear' here: a linear unit's bias before BN has a gradient of exactly zero, whose rounding noise
  // Adam turns into steps of the learning rate in whatever direction each engine's noise points.
  { model: { hidden: [7, 5], task: 'regression', activation: 'sigmoid', batchNorm: { placement: 'after-activation' } }, optimizer: 'adam' },
  { model: { hidden: [7], task: 'regression', activation: 'linear', batchNorm: { placement: 'after-activation' } }, optimizer: 'momentum' },
  { model: { hidden: [11], task: 'multiclass', activation: 'tanh' }, optimizer: 'momentum' },
  { model: { hidden: [6, 4], task: 'multiclass', activation: 'relu', batchNorm: { placement: 'after-activation' } }, optimizer: 'sgd' },
];

const name = (v: Variant) =>
  `${v.model.task}, ${v.model.activation ?? 'relu'}, ${v.model.batchNorm?.enabled === false ? 'no BN' : (v.model.batchNorm?.placement ?? 'before-activation')}, ${v.optimizer}`;

function problem(v: Variant) {
  const d = 5;
  const outputDim = v.model.task === 'multiclass' ? 3 : 1;
  const data = randomMatrix(13, 60, d, (x, i) => (v.model.task === 'multiclass' ? i % 3 : v.model.task === 'binary' ? +(x[0] + x[1] > 0) : x[0] - 2 * x[2]));
  const training = resolveTraining({ optimizer: v.optimizer, learningRate: 0.02, seed: 4 });
  const spec = resolveSpec(v.model, { inputDim: d, outputDim }, training.seed);
  return { rows: pack(toPart(data), spec.task), spec, training };
}

/** Batch b's rows: 16, 16, 16, then the remaining 12, in a shuffled order per pass. */
function batches(n: number): Uint32Array[] {
  const out: Uint32Array[] = [];
  const prng = createPrng(99);
  while (out.length < STEPS) {
    const order = new Uint32Array(n).map((_, i) => i);
    prng.shuffle(order);
    for (let from = 0; from < n && out.length < STEPS; from += 16) out.push(order.subarray(from, Math.min(n, from + 16)));
  }
  return out;
}

interface Trained {
  /** every variable (trainable and moving statistics) by its stable name */
  values: Map<string, Float32Array>;
  slots: { name: string; values: Float32Array }[];
  losses: number[];
}

/** STEPS steps of `engine` from the spec's initial weights. */
function trainSteps(engine: TrainEngineName, p: ReturnType<typeof problem>, perStep?: (step: number) => void): Trained {
  configureTrainEngine({ engine });
  const net: Network = createNetwork(p.spec);
  const opt = createOptimizer(p.training);
  const step = createTrainStep(net, opt);
  try {
    assert.equal(step.engine, engine);
    const losses = batches(p.rows.n).map((idx, i) => {
      const loss = step.run(p.rows, idx).loss;
      perStep?.(i);
      return loss;
    });
    step.sync();
    const values = new Map([...namedVariables(net)].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    const slots = saveOptimizer(opt, net).slots.map((w) => ({ name: w.name, values: w.values }));
    return { values, slots, losses };
  } finally {
    step.dispose();
    disposeNetwork(net);
  }
}

function assertClose(got: Trained, want: Trained, tolerance: number): void {
  assert.deepEqual([...got.values.keys()], [...want.values.keys()]);
  for (const [k, v] of want.values) {
    const diff = maxAbsDiff(got.values.get(k)!, v);
    assert.ok(diff <= tolerance, `${k} differs by ${diff}`);
  }
  assert.deepEqual(got.slots.map((s) => s.name), want.slots.map((s) => s.name));
  want.slots.forEach((s, i) => {
    const diff = maxAbsDiff(got.slots[i].values, s.values);
    assert.ok(diff <= tolerance, `optimizer slot ${s.name} differs by ${diff}`);
  });
  const lossDiff = maxAbsDiff(got.losses, want.losses);
  assert.ok(lossDiff <= 1e-5 * Math.max(1, ...want.losses), `losses differ by ${lossDiff}`);
}

function assertIdentical(a: Trained, b: Trained): void {
  for (const [k, v] of a.values) assert.deepEqual(Buffer.from(b.values.get(k)!.buffer), Buffer.from(v.buffer), k);
  assert.deepEqual(a.slots, b.slots);
  assert.deepEqual(a.losses, b.losses);
}

/** Each engine on the backend it is tested on: onnx beside the wasm backend, tensor-ops as cpu-backend ops. */
const engines = [
  { engine: 'onnx', backend: 'wasm' },
  { engine: 'tensor-ops', backend: 'cpu' },
] as const;

for (const v of variants) {
  for (const { engine, backend } of engines) {
    test(`the ${engine} step equals the loop step over ${STEPS} steps on the ${backend} backend, and repeats itself bit for bit (${name(v)})`, async () => {
      await tf.setBackend(backend);
      const p = problem(v);
      const reference = trainSteps('loops', p);
      const trained = trainSteps(engine, p);
      assertClose(trained, reference, 1e-5);
      assertIdentical(trained, trainSteps(engine, p));
    });
  }
}

/** Counts the backend's host reads (readSync and read) while `fn` runs. */
function countReads(fn: () => void): number {
  const backend = tf.backend() as unknown as { readSync: (...a: unknown[]) => unknown; read: (...a: unknown[]) => unknown };
  const { readSync, read } = backend;
  let reads = 0;
  backend.readSync = (...a) => (reads++, readSync.apply(backend, a));
  backend.read = (...a) => (reads++, read.apply(backend, a));
  try {
    fn();
  } finally {
    backend.readSync = readSync;
    backend.read = read;
  }
  return reads;
}

test('the tensor-ops step reads the host once per step (the loss) and leaves no tensors behind; the loop step reads every activation', async () => {
  await tf.setBackend('cpu');
  const p = problem(variants[0]);
  const idx = batches(p.rows.n);
  for (const [engine, check] of [
    ['tensor-ops', (reads: number) => assert.equal(reads, 1)],
    ['loops', (reads: number) => assert.ok(reads >= 6, `the loop step read the host ${reads} times: the counter counts`)],
  ] as const) {
    configureTrainEngine({ engine });
    const net = createNetwork(p.spec);
    const step = createTrainStep(net, createOptimizer(p.training));
    const start = tf.memory().numTensors;
    try {
      for (let i = 0; i < 5; i++) check(countReads(() => step.run(p.rows, idx[i])));
      if (engine === 'tensor-ops') assert.equal(tf.memory().numTensors, start, 'tensors after 5 steps');
    } finally {
      step.dispose();
      disposeNetwork(net);
    }
  }
});

test('the onnx step runs its products on TRAIN_THREADS threads, or on its share of the cores, with the same result', async () => {
  await tf.setBackend('wasm');
  const p = problem(variants[0]);
  const threads = () => fs.readdirSync('/proc/self/task').length;
  const results: Trained[] = [];
  for (const n of [1, 3]) {
    configureTrainEngine({ threads: n });
    const before = threads();
    let during = 0;
    results.push(trainSteps('onnx', p, () => (during = threads())));
    // onnxruntime's pools: the calling thread and n - 1 more for each batch size's session (16 and 12
    // rows here, used one after the other), gone with the step
    assert.equal(during - before, 2 * (n - 1), `threads ${before} -> ${during}`);
    assert.equal(threads(), before);
  }
  assertClose(results[1], results[0], 1e-5);

  // 'share' (TRAIN_THREADS unset): the step registers as a job while it exists, with the cores divided by the jobs
  configureTrainEngine({ threads: 'share' });
  const dir = path.join(os.tmpdir(), 'bn-service-training-jobs');
  const ours = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((e) => e.startsWith(`${process.pid}-`)) : []);
  const before = threads();
  let during = 0;
  let share = 0;
  trainSteps('onnx', p, () => {
    during = threads();
    assert.equal(ours().length, 1);
    share = Math.max(1, Math.floor(os.availableParallelism() / fs.readdirSync(dir).length));
  });
  assert.equal(during - before, 2 * (share - 1), `threads ${before} -> ${during} with a share of ${share}`);
  assert.deepEqual(ours(), [], 'released with the step');
  configureTrainEngine({ threads: 1 });
  assert.throws(() => configureTrainEngine({ threads: 0 }), /threads must be 'share' or a whole number >= 1/);
});

test('auto trains small networks on the loop step, larger ones on onnxruntime, and every network on tensor-ops where tensors live off the host', async () => {
  await tf.setBackend('wasm');
  const pick = (hidden: number[], inputDim: number) => {
    const net = createNetwork(resolveSpec({ hidden, task: 'binary' }, { inputDim, outputDim: 1 }, 1));
    try {
      return autoEngine(net).engine;
    } finally {
      disposeNetwork(net);
    }
  };
  // the small networks of the examples: 2-3-2-1, 2-128-1 and blobs' 2-32-32-1 stay on the loop step
  assert.deepEqual([pick([3, 2], 2), pick([128], 2), pick([32, 32], 2)], ['loops', 'loops', 'loops']);
  assert.ok(2 * 32 + 32 * 32 + 32 < ONNX_TRAIN_MIN_MULTIPLY_ADDS);
  assert.equal(pick([256, 128, 64], 784), 'onnx');
  configureTrainEngine({ engine: 'auto' });
  const net = createNetwork(resolveSpec({ hidden: [64], task: 'binary' }, { inputDim: 64, outputDim: 1 }, 1));
  const step = createTrainStep(net, createOptimizer(resolveTraining({ seed: 1 })));
  assert.equal(step.engine, 'onnx');
  step.dispose();
  disposeNetwork(net);
  // webgl, webgpu and tfjs-node cannot load here; a backend registered under the tensorflow name stands for them
  tf.registerBackend('tensorflow', () => new (tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend)(), -1);
  try {
    await tf.setBackend('tensorflow');
    assert.equal(pick([3, 2], 2), 'tensor-ops');
    assert.equal(pick([256, 128, 64], 784), 'tensor-ops');
  } finally {
    await tf.setBackend('wasm');
    tf.removeBackend('tensorflow');
  }
});

test('the jobs training on a machine share its cores: a job alone gets all of them, side by side they split them', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-share-'));
  try {
    const join = () => joinCoreShare({ dir, cores: 4, recheckMs: 0 });
    const a = join();
    assert.equal(a.threads(), 4);
    const b = join();
    assert.deepEqual([a.threads(), b.threads()], [2, 2]);
    const c = join();
    assert.deepEqual([a.threads(), b.threads(), c.threads()], [1, 1, 1], 'floor(4 / 3)');
    c.release();
    assert.equal(a.threads(), 2);
    // a job whose process died without releasing is not counted, and its entry goes
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    fs.writeFileSync(path.join(dir, `${dead}-1`), '');
    assert.equal(a.threads(), 2);
    assert.equal(fs.existsSync(path.join(dir, `${dead}-1`)), false);
    b.release();
    a.release();
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a training state saved by one engine resumes on another (a copy of what it saved), as if trained straight through', async () => {
  await tf.setBackend('cpu');
  const data = toPart(randomMatrix(8, 120, 5, (_x, i) => i % 3));
  for (const optimizer of ['adam', 'momentum'] as const) {
    const model: ModelRequest = { hidden: [16, 8], task: 'multiclass', batchNorm: { varianceEstimator: 'unbiased' } };
    const training = resolveTraining({ batchSize: 32, seed: 17, optimizer, validationSplit: 0, epochs: 4 });
    const spec = resolveSpec(model, { inputDim: 5, outputDim: 3 }, training.seed);
    const flat = (s: SavedCheckpoint) => s.checkpoint.layers.flatMap((l) => (l.type === 'dense' ? [...l.kernel, ...(l.bias ?? [])] : l.type === 'batchNorm' ? [...l.gamma, ...l.beta, ...l.movingMean, ...l.movingVariance] : []));
    configureTrainEngine({ engine: 'loops' });
    const straight = await train({ modelId: 'x', spec, training, data });
    for (const [first, second] of [['onnx', 'tensor-ops'], ['tensor-ops', 'loops'], ['loops', 'onnx']] as const) {
      configureTrainEngine({ engine: first });
      const half = await train({ modelId: 'x', spec, training: { ...training, epochs: 2 }, data });
      const resume = structuredClone({ checkpoint: half.last.checkpoint, state: half.last.state });
      configureTrainEngine({ engine: second });
      const resumed = await train({ modelId: 'x', spec, training, data, resume });
      const diff = maxAbsDiff(flat(resumed.last), flat(straight.last));
      assert.ok(diff <= 1e-5, `${optimizer}, ${first} then ${second}: parameters differ by ${diff}`);
      const slots = (s: SavedCheckpoint) => s.state.optimizer.slots.flatMap((w) => [...w.values]);
      assert.ok(maxAbsDiff(slots(resumed.last), slots(straight.last)) <= 1e-5, `${optimizer}, ${first} then ${second}: optimizer slots`);
    }
  }
  configureTrainEngine({ engine: 'auto' });
});
