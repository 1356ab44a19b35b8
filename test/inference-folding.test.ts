// Folding BN into the preceding Dense changes rounding only; JSON round trips change nothing at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDirectEngine, createFoldedEngine } from '../src/inference/index.js';
import type { CheckpointDocument } from '../src/schemas/checkpoint.js';
import type { ActivationName, TaskName } from '../src/schemas/model-spec.js';
import { createPrng } from '../src/util/prng.js';
import { makeCheckpoint, randomRows, type CheckpointOptions } from './helpers/make-checkpoint.js';
import { fromDocument } from '../src/checkpoint/document.js';

const direct = createDirectEngine();
const folded = createFoldedEngine();

const TASKS: TaskName[] = ['binary', 'multiclass', 'regression'];
const ACTIVATIONS: ActivationName[] = ['relu', 'sigmoid', 'tanh', 'linear'];
const BN_VARIANTS: CheckpointOptions['batchNorm'][] = [
  { placement: 'before-activation' },
  { placement: 'after-activation' },
  { enabled: false },
  { placement: 'before-activation', epsilon: 1e-5, varianceEstimator: 'unbiased' },
];

/**
 * Largest |a - b| / max(|a|, |b|) over all outputs. Outputs below 1e-6 in magnitude are compared
 * against 1e-6 instead: a relative error of an output that is itself a cancellation residue measures
 * nothing about folding.
 */
function maxRelError(a: number[][], b: number[][]): number {
  let worst = 0;
  for (let r = 0; r < a.length; r++) {
    assert.equal(a[r].length, b[r].length);
    for (let j = 0; j < a[r].length; j++) {
      const scale = Math.max(Math.abs(a[r][j]), Math.abs(b[r][j]), 1e-6);
      worst = Math.max(worst, Math.abs(a[r][j] - b[r][j]) / scale);
    }
  }
  return worst;
}

test('folded and direct inference agree within 1e-5 relative on random checkpoints', async () => {
  const p = createPrng(2024);
  let cases = 0;
  let worst = 0;
  for (const task of TASKS) {
    for (const activation of ACTIVATIONS) {
      for (const batchNorm of BN_VARIANTS) {
        const depth = 1 + p.int(4);
        const hidden = Array.from({ length: depth }, () => 1 + p.int(40));
        const inputDim = 1 + p.int(30);
        const opts: CheckpointOptions = {
          inputDim, hidden, task, activation, batchNorm, classes: 2 + p.int(8), seed: p.int(1e9), meanScale: 1 + p.int(20),
        };
        const doc = makeCheckpoint(opts);
        const rows = randomRows(50, inputDim, p.int(1e9));
        const a = await (await direct.load(fromDocument(doc))).predict(rows);
        const b = await (await folded.load(fromDocument(doc))).predict(rows);
        const err = maxRelError(a, b);
        assert.ok(err <= 1e-5, `${JSON.stringify({ ...opts, seed: opts.seed })}: relative error ${err}`);
        worst = Math.max(worst, err);
        cases++;
      }
    }
  }
  assert.equal(cases, 48);
  // Float64 throughout: folding costs only a few ulps in practice.
  assert.ok(worst < 1e-9, `worst relative error ${worst}`);
});

test('folding the MNIST-size net (784-256-128-64-10, BN before ReLU) stays within 1e-5', async () => {
  const doc = makeCheckpoint({ inputDim: 784, hidden: [256, 128, 64], task: 'multiclass', classes: 10, seed: 77 });
  const rows = randomRows(20, 784, 78);
  assert.ok(maxRelError(await (await direct.load(fromDocument(doc))).predict(rows), await (await folded.load(fromDocument(doc))).predict(rows)) <= 1e-5);
});

/** Every number of every layer, in document order. */
function parameters(doc: CheckpointDocument): number[] {
  const out: number[] = [];
  for (const layer of doc.layers) {
    if (layer.type === 'dense') {
      for (const row of layer.kernel) out.push(...row);
      if (layer.bias) out.push(...layer.bias);
    } else if (layer.type === 'batchNorm') {
      out.push(...layer.gamma, ...layer.beta, ...layer.movingMean, ...layer.movingVariance, layer.epsilon, layer.momentum);
    }
  }
  return out;
}

function bits(values: number[]): Uint8Array {
  return new Uint8Array(Float64Array.from(values).buffer);
}

test('a checkpoint through JSON.stringify/JSON.parse has bit-identical parameters and predictions', async () => {
  for (const batchNorm of BN_VARIANTS) {
    for (const task of TASKS) {
      const doc = makeCheckpoint({ inputDim: 7, hidden: [12, 9], task, batchNorm, classes: 5, seed: 31 });
      const copy = JSON.parse(JSON.stringify(doc)) as CheckpointDocument;
      assert.deepStrictEqual(copy, doc);
      const params = parameters(doc);
      assert.deepStrictEqual(bits(parameters(copy)), bits(params));
      const rows = randomRows(100, 7, 32);
      // The rows go through JSON too, as they would over HTTP.
      const rowsCopy = JSON.parse(JSON.stringify(rows)) as number[][];
      for (const engine of [direct, folded]) {
        const a = await (await engine.load(fromDocument(doc))).predict(rows);
        const b = await (await engine.load(fromDocument(copy))).predict(rowsCopy);
        const flat = (m: number[][]): number[] => m.flat();
        assert.deepStrictEqual(bits(flat(b)), bits(flat(a)), `${engine.name} ${task}`);
      }
    }
  }
});

test('the helper writes float32-representable parameters and positive variances', async () => {
  const doc = makeCheckpoint({ inputDim: 6, hidden: [5, 4], task: 'multiclass', batchNorm: { placement: 'after-activation' } });
  for (const layer of doc.layers) {
    if (layer.type === 'dense') {
      for (const v of [...layer.kernel.flat(), ...(layer.bias ?? [])]) assert.equal(Math.fround(v), v);
    } else if (layer.type === 'batchNorm') {
      for (const v of [...layer.gamma, ...layer.beta, ...layer.movingMean, ...layer.movingVariance]) assert.equal(Math.fround(v), v);
      assert.ok(layer.movingVariance.every((v) => v > 0));
    }
  }
  // after-activation: dense(bias) -> activation -> BN
  assert.deepEqual(doc.layers.slice(0, 3).map((l) => l.type), ['dense', 'activation', 'batchNorm']);
});
