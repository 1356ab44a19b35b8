// Loading refuses malformed documents (read with fromDocument, then checked by the engine) with a message
// that names the layer and field, and never mutates the document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointFormatError, createDirectEngine, createFoldedEngine, createOnnxEngine, loadOnnxRuntime } from '../src/inference/index.js';
import type { CheckpointDocument } from '../src/schemas/checkpoint.js';
import { makeCheckpoint } from './helpers/make-checkpoint.js';
import { fromDocument } from '../src/checkpoint/document.js';

// any: the tests corrupt the document in ways its type forbids.
type Doc = Record<string, any>;

/** dense_0 (3x4, no bias) -> bn_0 -> relu -> dense_out (4x2) -> softmax; after-activation variant adds biases. */
const base = (): CheckpointDocument =>
  makeCheckpoint({ inputDim: 3, hidden: [4], task: 'multiclass', classes: 2, seed: 4 });

const cases: [string, (d: Doc) => void, RegExp][] = [
  ['wrong format', (d) => (d.format = 'bn-checkpoint/v0'), /^invalid checkpoint: format: expected bn-checkpoint\/v1/],
  ['no layers', (d) => (d.layers = []), /layers: must be a non-empty array/],
  ['epoch 0', (d) => (d.epoch = 0), /epoch: must be an integer >= 1/],
  ['unknown layer type', (d) => (d.layers[2] = { type: 'dropout', name: 'drop', rate: 0.5 }), /layers\[2\] "drop" \(dropout\)\.type: unknown layer type dropout/],
  ['layer not an object', (d) => (d.layers[2] = null), /layers\[2\]: must be an object/],
  ['missing name', (d) => delete d.layers[2].name, /layers\[2\] \(activation\)\.name: must be a string/],
  ['ragged kernel', (d) => d.layers[0].kernel[2].pop(), /layers\[0\] "dense_0" \(dense\)\.kernel\[2\]: has 3 entries, expected 4/],
  ['kernel not matching the previous width', (d) => d.layers[3].kernel.pop(), /layers\[3\] "dense_out" \(dense\)\.kernel: has 3 rows, expected 4/],
  ['empty kernel', (d) => (d.layers[0].kernel = []), /layers\[0\] "dense_0" \(dense\)\.kernel: must be a non-empty array/],
  ['NaN weight', (d) => (d.layers[0].kernel[1][3] = Number.NaN), /dense_0" \(dense\)\.kernel\[1\]\[3\]: must be a finite number, got NaN/],
  ['string weight', (d) => (d.layers[3].kernel[0][1] = '0.5'), /dense_out" \(dense\)\.kernel\[0\]\[1\]: must be a finite number/],
  ['bias of the wrong length', (d) => d.layers[3].bias.push(1), /dense_out" \(dense\)\.bias: has 3 entries, expected 2/],
  ['infinite gamma', (d) => (d.layers[1].gamma[3] = Infinity), /layers\[1\] "batch_normalization_0" \(batchNorm\)\.gamma\[3\]: must be a finite number, got Infinity/],
  ['short beta', (d) => d.layers[1].beta.pop(), /batch_normalization_0" \(batchNorm\)\.beta: has 3 entries, expected 4/],
  ['missing movingMean', (d) => delete d.layers[1].movingMean, /\(batchNorm\)\.movingMean: must be an array/],
  ['negative variance', (d) => (d.layers[1].movingVariance[0] = -0.5), /\(batchNorm\)\.movingVariance\[0\]: must be >= 0/],
  ['zero variance and epsilon', (d) => { d.layers[1].movingVariance[2] = 0; d.layers[1].epsilon = 0; }, /movingVariance\[2\]: must be >= 0 with movingVariance \+ epsilon > 0/],
  ['negative epsilon', (d) => (d.layers[1].epsilon = -1e-3), /\(batchNorm\)\.epsilon: must be a finite number >= 0/],
  ['momentum 1', (d) => (d.layers[1].momentum = 1), /\(batchNorm\)\.momentum: must be a number in \[0, 1\)/],
  ['unknown estimator', (d) => (d.layers[1].varianceEstimator = 'bessel'), /varianceEstimator: must be biased or unbiased, got bessel/],
  ['unknown activation', (d) => (d.layers[2].fn = 'gelu'), /layers\[2\] "activation_0" \(activation\)\.fn: unknown activation gelu/],
  ['BN first', (d) => d.layers.shift(), /layers\[0\] "batch_normalization_0" \(batchNorm\): the first layer must be dense/],
  ['spec.inputDim not the kernel rows', (d) => (d.spec.inputDim = 5), /spec\.inputDim: is 5 but the first kernel has 3 rows/],
  ['spec.outputDim not the last width', (d) => (d.spec.outputDim = 3), /spec\.outputDim: is 3 but the last layer has 2 units/],
];

const ort = await loadOnnxRuntime();
if (ort instanceof Error) throw ort;

for (const engine of [createDirectEngine(), createFoldedEngine(), createOnnxEngine(ort)]) {
  test(`${engine.name}: load() accepts the helper's checkpoints`, async () => {
    for (const placement of ['before-activation', 'after-activation'] as const) {
      const doc = makeCheckpoint({ inputDim: 3, hidden: [4, 2], task: 'binary', batchNorm: { placement } });
      assert.equal((await engine.load(fromDocument(doc))).outputDim, 1);
    }
  });

  for (const [what, corrupt, message] of cases) {
    test(`${engine.name}: load() rejects ${what}`, async () => {
      const doc = base() as unknown as Doc;
      corrupt(doc);
      const snapshot = structuredClone(doc);
      await assert.rejects(
        async () => engine.load(fromDocument(doc)),
        (err: unknown) => {
          assert.ok(err instanceof CheckpointFormatError, String(err));
          assert.match(err.message, message);
          assert.equal(typeof err.field, 'string');
          return true;
        },
      );
      assert.deepStrictEqual(doc, snapshot, 'a failed load must not touch the document');
    });
  }
}
