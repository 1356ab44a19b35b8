// Shared fixtures for the store tests (no tests here).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CHECKPOINT_FORMAT, TRAINING_STATE_FORMAT } from '../src/schemas/checkpoint.js';
import type { CheckpointDocument, EpochMetrics, TfjsModelJson, TrainingState } from '../src/schemas/checkpoint.js';
import { namedTensors, type Checkpoint } from '../src/checkpoint/checkpoint.js';
import { fromDocument } from '../src/checkpoint/document.js';
import type { ModelSpec, ResolvedTraining } from '../src/schemas/model-spec.js';
import type { ModelRecord } from '../src/store/store.js';
import { resolveTraining } from '../src/model/spec.js';
import type { DatasetInfo } from '../src/schemas/dataset.js';

/** The info of a float32 dataset of `rows` rows of 2 features (statistics are not checked by the store). */
export const datasetInfo = (id: string, rows = 3): DatasetInfo => ({
  id,
  name: 'tiny',
  rows,
  features: 2,
  featureNames: ['a', 'b'],
  classes: 2,
  stats: { mean: [1, 2], std: [0.5, 0.25], min: [0, 1], max: [2, 3] },
  storage: { features: 'float32', scale: 1 },
  createdAt: '2024-01-01T00:00:00.000Z',
});

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-store-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file and directory below dir, relative, sorted. */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true });
  return entries.map((e) => e.split(path.sep).join('/')).sort();
}

export const spec: ModelSpec = {
  inputDim: 2,
  outputDim: 1,
  hidden: [3],
  activation: 'relu',
  task: 'binary',
  batchNorm: { enabled: true, placement: 'before-activation', momentum: 0.99, epsilon: 1e-3, varianceEstimator: 'biased' },
  weightInit: { method: 'glorot-uniform', min: -0.05, max: 0.05, seed: 7 },
};

export const training: ResolvedTraining = resolveTraining({
  epochs: 10,
  batchSize: 32,
  optimizer: 'adam',
  learningRate: 0.01,
  validationSplit: 0.2,
  shuffle: true,
  seed: 7,
  progressEveryBatches: 0,
  checkpoints: { keepLast: 20, keepBest: 1 },
});

export function modelRecord(modelId: string, createdAt = '2024-01-01T00:00:00.000Z'): ModelRecord {
  return {
    modelId,
    jobId: `job-${modelId}`,
    datasetId: 'builtin:blobs',
    spec,
    training,
    createdAt,
    updatedAt: createdAt,
  };
}

export function metrics(epoch: number): EpochMetrics {
  return { epoch, loss: Math.fround(1 / (epoch + 0.3)), accuracy: 0.5, samplesPerSecond: 1000, durationMs: 12.5 };
}

/** Awkward float32 values (subnormal, max, repeating binary fractions) to catch lossy serialisation. */
export function f32(seed: number): number[] {
  return [0.1, -1 / 3, 1e-40, 3.4028234663852886e38, Math.PI, -2.5e-8, 123456.789].map((v) => Math.fround(v / seed));
}

/** The checkpoint of `checkpointDocument` in memory (what training hands the store). */
export function checkpoint(modelId: string, epoch: number, seed = 1): Checkpoint {
  return fromDocument(checkpointDocument(modelId, epoch, seed));
}

export function checkpointDocument(modelId: string, epoch: number, seed = 1): CheckpointDocument {
  return {
    format: CHECKPOINT_FORMAT,
    modelId,
    epoch,
    createdAt: new Date(Date.UTC(2024, 0, 1, 0, epoch)).toISOString(),
    backend: 'cpu',
    spec,
    training,
    metrics: metrics(epoch),
    layers: [
      { type: 'dense', name: 'dense_1', kernel: [f32(seed).slice(0, 3), f32(seed + 1).slice(0, 3)] },
      {
        type: 'batchNorm',
        name: 'bn_1',
        gamma: f32(seed).slice(0, 3),
        beta: f32(seed + 2).slice(0, 3),
        movingMean: f32(seed + 3).slice(3, 6),
        movingVariance: f32(seed + 4).slice(4, 7).map(Math.abs),
        epsilon: Math.fround(1e-3),
        momentum: 0.99,
        varianceEstimator: 'biased',
      },
      { type: 'activation', name: 'relu_1', fn: 'relu' },
      { type: 'dense', name: 'out', kernel: [[Math.fround(0.7)], [Math.fround(-0.2)], [Math.fround(1e-7)]], bias: [0.25] },
      { type: 'activation', name: 'sigmoid', fn: 'sigmoid' },
    ],
  };
}

export function trainingState(modelId: string, epoch: number): TrainingState {
  return {
    format: TRAINING_STATE_FORMAT,
    modelId,
    epoch,
    optimizer: { type: 'adam', iterations: epoch * 10, slots: [{ name: 'dense_1/kernel/m', shape: [7], values: Float32Array.from(f32(epoch)) }] },
  };
}

/** A TF.js model.json whose manifest names the checkpoint's tensors in reverse order (so the store must follow it). */
export function tfjsModel(c: Checkpoint): TfjsModelJson {
  const weights = namedTensors(c.layers).map((t) => ({ name: t.name, shape: t.shape, dtype: 'float32' }));
  return { format: 'layers-model', modelTopology: { epoch: c.epoch }, weightsManifest: [{ paths: ['weights.bin'], weights: weights.reverse() }] };
}

/** Deep equality that also distinguishes floats bit for bit (Object.is on every number). */
export function assertBitIdentical(actual: unknown, expected: unknown, where = '$'): void {
  if (typeof expected === 'number') {
    if (!Object.is(actual, expected)) throw new Error(`${where}: ${String(actual)} is not bit-identical to ${expected}`);
    return;
  }
  if (expected === null || typeof expected !== 'object') {
    if (actual !== expected) throw new Error(`${where}: ${String(actual)} !== ${String(expected)}`);
    return;
  }
  if (typeof actual !== 'object' || actual === null) throw new Error(`${where}: expected an object`);
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(e)]);
  for (const k of keys) assertBitIdentical(a[k], e[k], `${where}.${k}`);
}
