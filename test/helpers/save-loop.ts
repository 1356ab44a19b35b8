// A child process for faults-save-kill: saves large checkpoints through createFsStore in a tight loop, so
// that a SIGKILL from the parent lands in the middle of a save. Run compiled:
//   node dist/test/helpers/save-loop.js <dataDir> <modelId> <firstEpoch> [lastEpoch]
// stdout protocol, one line each: "ready", "begin <epoch>" before a save, "saved <epoch> <ms>" after it.
// The content of every epoch is a pure function of (modelId, epoch), so the parent can check it bit for bit.
import { fileURLToPath } from 'node:url';
import { createFsStore } from '../../src/store/fs-store.js';
import { CHECKPOINT_FORMAT, TRAINING_STATE_FORMAT, type TfjsModelJson, type TrainingState } from '../../src/schemas/checkpoint.js';
import { namedTensors, type Checkpoint } from '../../src/checkpoint/checkpoint.js';
import { createPrng } from '../../src/util/prng.js';
import { resolveTraining } from '../../src/model/spec.js';

/** Kernel of WIDTH x WIDTH floats: 1 MiB of weights per checkpoint, as much again in the training state. */
export const WIDTH = 512;

const vec = (n: number, f: () => number): Float32Array => Float32Array.from({ length: n }, f);

export function loopCheckpoint(modelId: string, epoch: number): Checkpoint {
  const p = createPrng(epoch * 7919 + 13);
  const f = () => p.uniform(-1, 1);
  return {
    format: CHECKPOINT_FORMAT,
    modelId,
    epoch,
    createdAt: new Date(Date.UTC(2024, 0, 1) + epoch * 1000).toISOString(),
    backend: 'save-loop',
    spec: {
      inputDim: WIDTH,
      outputDim: 1,
      hidden: [WIDTH],
      activation: 'relu',
      task: 'binary',
      batchNorm: { enabled: true, placement: 'before-activation', momentum: 0.99, epsilon: 1e-3, varianceEstimator: 'biased' },
      weightInit: { method: 'glorot-uniform', min: -0.05, max: 0.05, seed: 1 },
    },
    training: resolveTraining({
      epochs: 1_000_000,
      batchSize: 32,
      optimizer: 'adam',
      learningRate: 0.01,
      validationSplit: 0.2,
      shuffle: true,
      seed: 1,
      progressEveryBatches: 0,
      checkpoints: { keepLast: 1_000_000, keepBest: 0 },
    }),
    metrics: { epoch, loss: 1 / epoch, samplesPerSecond: 1000, durationMs: 10 },
    layers: [
      { type: 'dense', name: 'dense_0', inputs: WIDTH, units: WIDTH, kernel: vec(WIDTH * WIDTH, f) },
      {
        type: 'batchNorm',
        name: 'batch_normalization_0',
        gamma: vec(WIDTH, f),
        beta: vec(WIDTH, f),
        movingMean: vec(WIDTH, f),
        movingVariance: vec(WIDTH, () => Math.abs(f()) + 0.01),
        epsilon: 1e-3,
        momentum: 0.99,
        varianceEstimator: 'biased',
      },
      { type: 'activation', name: 'activation_0', fn: 'relu' },
      { type: 'dense', name: 'dense_out', inputs: WIDTH, units: 1, kernel: vec(WIDTH, f), bias: vec(1, f) },
      { type: 'activation', name: 'activation_out', fn: 'sigmoid' },
    ],
  };
}

export function loopState(modelId: string, epoch: number): TrainingState {
  const p = createPrng(epoch * 104_729 + 7);
  return {
    format: TRAINING_STATE_FORMAT,
    modelId,
    epoch,
    optimizer: {
      type: 'adam',
      iterations: epoch * 100,
      slots: [{ name: 'dense_0/kernel/m', shape: [WIDTH, WIDTH], values: vec(WIDTH * WIDTH, () => p.uniform(-1, 1)) }],
    },
  };
}

export function loopTfjs(checkpoint: Checkpoint): TfjsModelJson {
  const weights = namedTensors(checkpoint.layers).map((t) => ({ name: t.name, shape: t.shape, dtype: 'float32' }));
  return { format: 'layers-model', modelTopology: { width: WIDTH }, weightsManifest: [{ paths: ['weights.bin'], weights }] };
}

async function main(): Promise<void> {
  const [dataDir, modelId, firstArg, lastArg] = process.argv.slice(2);
  const first = Number(firstArg);
  const last = lastArg === undefined ? Number.MAX_SAFE_INTEGER : Number(lastArg);
  const store = await createFsStore(dataDir);
  // Checkpoints belong to a model: its record comes first (the store refuses to save for a deleted one).
  if (!(await store.getModel(modelId))) {
    const c = loopCheckpoint(modelId, 1);
    await store.putModel({ modelId, jobId: `job_${modelId}`, datasetId: 'builtin:blobs', spec: c.spec, training: c.training, createdAt: c.createdAt, updatedAt: c.createdAt });
  }
  process.stdout.write('ready\n');
  for (let epoch = first; epoch <= last; epoch++) {
    // Built before "begin": the parent's kill should land in the store's writes, not in building the values.
    const doc = loopCheckpoint(modelId, epoch);
    const state = loopState(modelId, epoch);
    const t0 = performance.now();
    process.stdout.write(`begin ${epoch}\n`);
    await store.putCheckpoint(doc, state, loopTfjs(doc));
    process.stdout.write(`saved ${epoch} ${(performance.now() - t0).toFixed(1)}\n`);
  }
}

// Only as a script with its arguments: a test runner that globs every file under test/ may load it bare.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.length >= 5) {
  main().catch((err: unknown) => {
    process.stderr.write(`save-loop failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
