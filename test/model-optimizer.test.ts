// The engine's optimizers against tf.train's: same updates, and a saved state with tfjs's slot names,
// shapes and order (states saved before the engine had its own optimizers must resume).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, resolveSpec, resolveTraining } from '../src/model/index.js';
import { createNetwork, disposeNetwork, stableName } from '../src/model/network.js';
import { createOptimizer, optimizerStep, restoreOptimizer, saveOptimizer } from '../src/model/optimizer.js';
import { createPrng } from '../src/util/prng.js';
import { maxAbsDiff } from './model-helpers.js';

before(async () => {
  await initBackend('wasm');
});

for (const optimizer of ['adam', 'momentum', 'sgd'] as const) {
  test(`${optimizer} takes the steps tf.train.${optimizer} takes and saves the state it saves`, async () => {
    const training = resolveTraining({ optimizer, learningRate: 0.05, seed: 3 });
    // sizes that are not whole SIMD lanes (5, 3 units) on purpose
    const spec = resolveSpec({ hidden: [5, 3], task: 'binary' }, { inputDim: 7, outputDim: 1 }, 3);
    const net = createNetwork(spec);
    const reference = optimizer === 'adam' ? tf.train.adam(0.05) : optimizer === 'momentum' ? tf.train.momentum(0.05, 0.9) : tf.train.sgd(0.05);
    try {
      const mine = createOptimizer(training);
      const params = net.trainable.map((v) => Float32Array.from(v.dataSync()));
      const sizes = params.map((p) => p.length);
      const prng = createPrng(11);
      for (let step = 0; step < 4; step++) {
        // gradients of very different scales, as early and late in training
        const grads = sizes.map((n) => Float32Array.from({ length: n }, () => prng.normal() * 10 ** (step - 2)));
        const update = optimizerStep(mine, sizes);
        params.forEach((p, q) => update(q, p, grads[q], p));
        tf.tidy(() => reference.applyGradients(net.trainable.map((v, q) => ({ name: v.name, tensor: tf.tensor(grads[q], v.shape) }))));
      }
      net.trainable.forEach((v, q) => {
        const want = v.dataSync();
        assert.ok(maxAbsDiff(params[q], want) < 1e-6, `${v.name}: ${maxAbsDiff(params[q], want)}`);
      });

      const saved = saveOptimizer(mine, net);
      const weights = await reference.getWeights();
      assert.deepEqual(
        [['iter', []], ...saved.slots.map((w) => [w.name, w.shape])],
        weights.map((w) => [stableName(net, w.name), w.tensor.shape]),
      );
      assert.equal(saved.iterations, 4, 'iterations');
      saved.slots.forEach((w, i) => {
        const want = weights[i + 1].tensor.dataSync();
        assert.ok(maxAbsDiff(w.values, want) < 1e-6 * Math.max(1, ...Array.from(want, Math.abs)), `${w.name}: ${maxAbsDiff(w.values, want)}`);
      });
      tf.dispose(weights.filter((w) => w.name === 'iter').map((w) => w.tensor));

      // a restored optimizer holds the same state
      const restored = createOptimizer(training);
      restoreOptimizer(restored, net, saved);
      assert.deepEqual(saveOptimizer(restored, net), saved);
    } finally {
      reference.dispose();
      disposeNetwork(net);
    }
  });
}

test('a state saved before the first step holds the counter only, and restores as such', () => {
  const training = resolveTraining({ optimizer: 'adam', seed: 1 });
  const spec = resolveSpec({ hidden: [4], task: 'binary' }, { inputDim: 2, outputDim: 1 }, 1);
  const net = createNetwork(spec);
  try {
    const saved = saveOptimizer(createOptimizer(training), net);
    assert.deepEqual(saved, { type: 'adam', iterations: 0, slots: [] });
    const restored = createOptimizer(training);
    restoreOptimizer(restored, net, saved);
    assert.deepEqual(saveOptimizer(restored, net), saved);
  } finally {
    disposeNetwork(net);
  }
});
