// The training loop end to end: learning, determinism, resume, cancellation, divergence.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  initBackend,
  resolveSpec,
  resolveTraining,
  train,
  TrainingCancelledError,
  TrainingDivergedError,
  SpecError,
  type SavedCheckpoint,
  type TrainingProgress,
} from '../src/model/index.js';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { toDocument } from '../src/checkpoint/document.js';
import { createFsStore } from '../src/store/fs-store.js';
import type { ModelRequest, TrainingOptions } from '../src/schemas/model-spec.js';
import { accuracyOf, blobs, maxAbsDiff, randomMatrix, toPart } from './model-helpers.js';

before(async () => {
  await initBackend('wasm');
});

const flatLayers = (checkpoint: Checkpoint): number[] =>
  toDocument(checkpoint).layers.flatMap((l) =>
    l.type === 'dense'
      ? [...l.kernel.flat(), ...(l.bias ?? [])]
      : l.type === 'batchNorm'
        ? [...l.gamma, ...l.beta, ...l.movingMean, ...l.movingVariance]
        : [],
  );

function setup(model: ModelRequest, opts: TrainingOptions, inputDim: number, outputDim = 1) {
  const training = resolveTraining(opts);
  return { training, spec: resolveSpec(model, { inputDim, outputDim }, training.seed) };
}

test("6. a BN model learns the blobs problem (>= 0.8 test accuracy with frozen statistics) and its loss falls", async () => {
  const { train: data, test: held } = blobs(2024);
  assert.equal(data.features.length, 750);
  assert.equal(held.features.length, 250);
  const { spec, training } = setup(
    { hidden: [128], task: 'binary' },
    { epochs: 20, batchSize: 32, seed: 1, validationSplit: 0, progressEveryBatches: 1 },
    2,
  );
  let firstBatchLoss = NaN;
  const res = await train({
    modelId: 'blobs',
    spec,
    training,
    data: toPart(data),
    validation: toPart(held),
    onProgress: (p) => {
      if (p.epoch === 1 && p.batch === 1) firstBatchLoss = p.loss;
    },
  });
  const losses = res.history.map((h) => h.loss);
  assert.equal(res.epochs, 20);
  assert.ok(losses[19] < firstBatchLoss * 0.8, `loss fell: ${firstBatchLoss} -> ${losses[19]}`);
  assert.ok(losses[19] < losses[0], `epoch loss fell: ${losses[0]} -> ${losses[19]}`);
  const doc = toDocument(res.last.checkpoint);
  assert.deepEqual(
    doc.layers.map((l) => l.type),
    ['dense', 'batchNorm', 'activation', 'dense', 'activation'],
  );
  assert.equal((doc.layers[0] as { bias?: number[] }).bias, undefined, 'no dense bias before BN');
  const acc = accuracyOf(doc, held);
  console.log(`blobs: first batch loss ${firstBatchLoss.toFixed(4)}, epoch losses ${losses[0].toFixed(4)} -> ${losses[19].toFixed(4)}, test accuracy ${acc}`);
  assert.ok(acc >= 0.8, `test accuracy ${acc}`);
  // the engine's own valAccuracy used the same frozen statistics
  assert.ok(Math.abs((res.history[19].valAccuracy ?? 0) - acc) <= 2 / 250, `${res.history[19].valAccuracy} vs ${acc}`);
});

test('the same seed gives the same result; another seed does not', async () => {
  const data = randomMatrix(21, 200, 4, (x) => (x[0] + x[1] * x[2] > 0 ? 1 : 0));
  const run = async (seed: number) => {
    const { spec, training } = setup({ hidden: [8, 8], task: 'binary' }, { epochs: 3, batchSize: 16, seed }, 4);
    return train({ modelId: 'det', spec, training, data: toPart(data) });
  };
  const [a, b, c] = [await run(3), await run(3), await run(4)];
  assert.deepEqual(flatLayers(a.last.checkpoint), flatLayers(b.last.checkpoint));
  assert.deepEqual(a.history.map((h) => h.loss), b.history.map((h) => h.loss));
  assert.notDeepEqual(flatLayers(a.last.checkpoint), flatLayers(c.last.checkpoint));
});

for (const optimizer of ['adam', 'momentum', 'sgd'] as const) {
  test(`4 epochs straight equal 2 epochs + resume for 2 more, bit for bit (${optimizer}, through the store)`, async (t) => {
    const data = randomMatrix(8, 300, 5, (_x, i) => i % 3);
    const model: ModelRequest = { hidden: [16, 8], task: 'multiclass', batchNorm: { varianceEstimator: 'unbiased' } };
    const opts = { batchSize: 32, seed: 17, optimizer, validationSplit: 0.2 };
    const straight = setup(model, { ...opts, epochs: 4 }, 5, 3);
    const full = await train({ modelId: 'r', ...straight, data: toPart(data) });

    // The first half saves through the store, as the training child does; the resume reads back from it.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-resume-'));
    t.after(() => fs.rm(dir, { recursive: true, force: true }));
    const store = await createFsStore(dir);
    const firstHalf = setup(model, { ...opts, epochs: 2 }, 5, 3);
    await store.putModel({ modelId: 'r', jobId: 'job_r', datasetId: 'inline', ...firstHalf, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' });
    const saved: SavedCheckpoint[] = [];
    await train({ modelId: 'r', ...firstHalf, data: toPart(data), onCheckpoint: async (s) => void (saved.push(s), await store.putCheckpoint(s.checkpoint, s.state, s.tfjs)) });
    assert.deepEqual(saved.map((s) => s.checkpoint.epoch), [1, 2]);
    const resume = { checkpoint: (await store.getCheckpoint('r', 2))!, state: (await store.getTrainingState('r', 2))! };
    assert.deepEqual(flatLayers(resume.checkpoint), flatLayers(saved[1].checkpoint), 'the store round trip is exact');
    const epochs: number[] = [];
    const resumed = await train({ modelId: 'r', ...straight, data: toPart(data), resume, onCheckpoint: (s) => void epochs.push(s.checkpoint.epoch) });
    assert.deepEqual(epochs, [3, 4]);
    assert.equal(resumed.epochs, 4);
    assert.deepEqual(resumed.history.map((h) => h.epoch), [3, 4]);
    // Training is deterministic per epoch, so a resumed run is the straight run, bit for bit.
    assert.deepEqual(flatLayers(resumed.last.checkpoint), flatLayers(full.last.checkpoint));
    assert.equal(resumed.history[1].loss, full.history[3].loss);
  });
}

test('an AbortSignal stops training at a batch boundary with TrainingCancelledError', async () => {
  const data = randomMatrix(5, 320, 3, (x) => (x[0] > 0 ? 1 : 0));
  const { spec, training } = setup({ hidden: [8], task: 'binary' }, { epochs: 5, batchSize: 32, seed: 2, progressEveryBatches: 1, validationSplit: 0 }, 3);
  const ac = new AbortController();
  const batches: string[] = [];
  const checkpoints: number[] = [];
  await assert.rejects(
    train({
      modelId: 'c',
      spec,
      training,
      data: toPart(data),
      signal: ac.signal,
      onCheckpoint: (s) => void checkpoints.push(s.checkpoint.epoch),
      onProgress: (p) => {
        batches.push(`${p.epoch}.${p.batch}`);
        if (p.epoch === 2 && p.batch === 3) ac.abort();
      },
    }),
    (err: unknown) => err instanceof TrainingCancelledError && err.lastSavedEpoch === 1,
  );
  assert.deepEqual(checkpoints, [1]);
  assert.equal(batches.length, 10 + 3, 'no batch ran after the abort');
  assert.equal(batches[batches.length - 1], '2.3');
});

test('a cancel that arrives through the event loop stops a run of epochs shorter than the yield interval', async () => {
  // Epochs of about a millisecond and a synchronous onCheckpoint (as the training child's store is): the
  // trainer alone must give the loop its turns, or the timer below (standing for the cancel or shutdown
  // message a worker receives) would wait for all the epochs.
  const data = randomMatrix(7, 64, 2, (x) => (x[0] > 0 ? 1 : 0));
  const { spec, training } = setup({ hidden: [3], task: 'binary' }, { epochs: 10_000, batchSize: 32, seed: 1, validationSplit: 0 }, 2);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 100);
  let lastEpoch = 0;
  try {
    await assert.rejects(
      train({ modelId: 'y', spec, training, data: toPart(data), signal: ac.signal, onCheckpoint: (s) => void (lastEpoch = s.checkpoint.epoch) }),
      (err: unknown) => err instanceof TrainingCancelledError && err.lastSavedEpoch === lastEpoch,
    );
  } finally {
    clearTimeout(timer);
  }
  // Not a lower bound: on a slow machine the first epoch (JIT, wasm) may itself outlast the timer.
  assert.ok(lastEpoch < 10_000, `stopped after epoch ${lastEpoch}`);
});

test('a diverging run throws TrainingDivergedError and does not checkpoint that epoch', async () => {
  const data = randomMatrix(6, 256, 4, (x) => 50 * x[0] + 20);
  const { spec, training } = setup(
    { hidden: [32, 32], task: 'regression', batchNorm: { enabled: false }, weightInit: { method: 'uniform', min: -3, max: 3 } },
    { epochs: 5, batchSize: 16, optimizer: 'sgd', learningRate: 100, seed: 3, validationSplit: 0 },
    4,
  );
  const checkpoints: number[] = [];
  let diverged: TrainingDivergedError | undefined;
  await assert.rejects(
    train({ modelId: 'd', spec, training, data: toPart(data), onCheckpoint: (s) => void checkpoints.push(s.checkpoint.epoch) }),
    (err: unknown) => {
      if (err instanceof TrainingDivergedError) diverged = err;
      return diverged !== undefined && /NaN or infinite/.test(diverged.message);
    },
  );
  assert.ok(diverged);
  // The epoch that diverged follows the last saved one and was not checkpointed.
  assert.equal(diverged.lastSavedEpoch, checkpoints.length);
  assert.equal(diverged.epoch, checkpoints.length + 1);
  assert.ok(!checkpoints.includes(diverged.epoch));
});

test('a last batch of one row joins the batch before it; batch size 1 with BN is refused', async () => {
  // 65 training rows in batches of 16: 4 batches, the last of 17 rows (not a fifth batch of one row).
  const data = randomMatrix(12, 65, 2, (x) => x[0] + x[1]);
  const { spec, training } = setup({ hidden: [4], task: 'regression' }, { epochs: 1, batchSize: 16, seed: 5, validationSplit: 0, progressEveryBatches: 1 }, 2);
  const progress: TrainingProgress[] = [];
  await train({ modelId: 'one', spec, training, data: toPart(data), onProgress: (p) => void progress.push({ ...p }) });
  assert.deepEqual(progress.map((p) => p.batch), [1, 2, 3, 4]);
  assert.equal(progress[0].batches, 4);
  await assert.rejects(
    train({ modelId: 'bs1', spec, training: { ...training, batchSize: 1 }, data: toPart(data) }),
    (err: unknown) => err instanceof SpecError && err.field === 'training.batchSize' && /batch of one row/.test(err.message),
  );
});

test('epoch and batch progress, metrics and checkpoint contents', async () => {
  const data = randomMatrix(9, 100, 2, (x) => x[0] - x[1]);
  const { spec, training } = setup({ hidden: [4], task: 'regression', batchNorm: { placement: 'after-activation' } }, { epochs: 2, batchSize: 30, seed: 4, progressEveryBatches: 2 }, 2);
  const progress: TrainingProgress[] = [];
  const starts: number[] = [];
  const saved: number[] = [];
  const res = await train({
    modelId: 'p',
    spec,
    training,
    data: toPart(data),
    onStart: (s) => void starts.push(s.batches),
    onProgress: (p) => void progress.push({ ...p }),
    onCheckpoint: (s) => void saved.push(s.batches),
  });
  // 80 training rows (validationSplit 0.2) in batches of 30: 3 batches, the last one partial; the count is
  // known before the first batch, and every epoch's checkpoint carries it.
  assert.deepEqual(starts, [3]);
  assert.deepEqual(saved, [3, 3]);
  assert.deepEqual(progress.map((p) => `${p.epoch}.${p.batch}/${p.batches}`), ['1.2/3', '2.2/3']);
  const m = res.history[1];
  assert.ok(m.valLoss !== undefined && Number.isFinite(m.valLoss) && m.accuracy === undefined);
  assert.ok(m.samplesPerSecond > 0 && m.durationMs > 0);
  const doc = toDocument(res.last.checkpoint);
  assert.equal(doc.format, 'bn-checkpoint/v1');
  assert.equal(doc.backend, 'wasm');
  assert.deepEqual(doc.layers.map((l) => `${l.type}:${l.name}`), ['dense:dense_0', 'activation:activation_0', 'batchNorm:batch_norm_0', 'dense:dense_out', 'activation:activation_out']);
  assert.ok((doc.layers[0] as { bias?: number[] }).bias?.length === 4, 'dense keeps its bias when BN comes after the activation');
  assert.equal(res.last.state.epoch, 2);
  assert.ok(res.last.state.optimizer.slots.some((w) => w.name === 'dense_0/kernel/m' && w.values instanceof Float32Array));
});
