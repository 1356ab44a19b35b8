// A child process for faults-save-kill: saves large checkpoints through createFsStore in a tight loop, so
// that a SIGKILL from the parent lands in the middle of a save. Run compiled:
//   node dist/test/helpers/save-loop.js <dataDir> <modelId> <firstEpoch> [lastEpoch]
// stdout protocol, one line each: "ready", "begin <epoch>" before a save, "saved <epoch> <ms>" after it.
// The content of every epoch is a pure function of (modelId, epoch), so the parent can check it bit for bit.
import { fileURLToPath } from 'node:url';
import { createFsStore } from '../../src/store/fs-store.js';
import {
  CHECKPOINT_FORMAT,
  TRAINING_STATE_FORMAT,
  type CheckpointDocument,
  type TfjsArtifacts,
  type TrainingState,
} from '../../src/schemas/checkpoint.js';
import { createPrng } from '../../src/util/prng.js';

/** Kernel of WIDTH x WIDTH floats: ~2 MB of JSON per document, as much again in the training state. */
export const WIDTH = 320;

const vec = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);

export function loopCheckpoint(modelId: string, epoch: number): CheckpointDocument {
  const p = createPrng(epoch * 7919 + 13);
  const f = () => Math.fround(p.uniform(-1, 1));
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
    training: {
      epochs: 1_000_000,
      batchSize: 32,
      optimizer: 'adam',
      learningRate: 0.01,
      validationSplit: 0.2,
      shuffle: true,
      seed: 1,
      progressEveryBatches: 0,
    },
    metrics: { epoch, loss: 1 / epoch, samplesPerSecond: 1000, durationMs: 10 },
    layers: [
      { type: 'dense', name: 'dense_0', kernel: vec(WIDTH, () => vec(WIDTH, f)) },
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
      { type: 'dense', name: 'dense_out', kernel: vec(WIDTH, () => [f()]), bias: [f()] },
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
    history: Array.from({ length: epoch }, (_, i) => ({ epoch: i + 1, loss: 1 / (i + 1), samplesPerSecond: 1000, durationMs: 10 })),
    optimizer: {
      type: 'adam',
      weights: [{ name: 'm', shape: [WIDTH, WIDTH], values: vec(WIDTH * WIDTH, () => Math.fround(p.uniform(-1, 1))) }],
    },
  };
}

export function loopArtifacts(epoch: number): TfjsArtifacts {
  const p = createPrng(epoch * 31 + 5);
  const floats = new Float32Array(WIDTH * WIDTH + 4 * WIDTH);
  for (let i = 0; i < floats.length; i++) floats[i] = p.uniform(-1, 1);
  return {
    modelJson: { format: 'layers-model', modelTopology: { epoch }, weightsManifest: [{ paths: ['weights.bin'], weights: [] }] },
    weightsBin: new Uint8Array(floats.buffer),
  };
}

async function main(): Promise<void> {
  const [dataDir, modelId, firstArg, lastArg] = process.argv.slice(2);
  const first = Number(firstArg);
  const last = lastArg === undefined ? Number.MAX_SAFE_INTEGER : Number(lastArg);
  const store = await createFsStore(dataDir);
  process.stdout.write('ready\n');
  for (let epoch = first; epoch <= last; epoch++) {
    // Built before "begin": the parent's kill should land in the store's writes, not in our JSON building.
    const doc = loopCheckpoint(modelId, epoch);
    const state = loopState(modelId, epoch);
    const artifacts = loopArtifacts(epoch);
    const t0 = performance.now();
    process.stdout.write(`begin ${epoch}\n`);
    await store.putCheckpoint(doc, state, artifacts);
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
