// No tensor leaks: repeated train and predict cycles leave tf.memory().numTensors where it was.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, resolveSpec, resolveTraining, train, TrainingCancelledError, TrainingDivergedError } from '../src/model/index.js';
import { randomMatrix, tfjsArtifacts, toPart } from './model-helpers.js';

before(async () => {
  await initBackend('wasm');
});

async function cycle(i: number): Promise<void> {
  const data = randomMatrix(i, 90, 3, (_x, j) => j % 3);
  const training = resolveTraining({ epochs: 2, batchSize: 16, seed: i, optimizer: (['adam', 'momentum', 'sgd'] as const)[i % 3] });
  const spec = resolveSpec({ hidden: [6, 4], task: 'multiclass' }, { inputDim: 3, outputDim: 3 }, training.seed);
  const res = await train({ modelId: 'leak', spec, training, data: toPart(data) });
  const resumed = await train({ modelId: 'leak', spec, training: { ...training, epochs: 3 }, data: toPart(data), resume: { checkpoint: res.last.checkpoint, state: res.last.state } });
  // cancelled and diverged runs must clean up as well
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(train({ modelId: 'leak', spec, training, data: toPart(data), signal: ac.signal }), TrainingCancelledError);
  const bad = resolveSpec({ hidden: [16], task: 'regression', batchNorm: { enabled: false }, weightInit: { method: 'uniform', min: -5, max: 5 } }, { inputDim: 3, outputDim: 1 }, 1);
  const big = { features: data.features, labels: data.labels.map((_, j) => 1e3 * j) };
  await assert.rejects(train({ modelId: 'leak', spec: bad, training: { ...training, optimizer: 'sgd', learningRate: 100 }, data: toPart(big) }), TrainingDivergedError);
  // predict through the artifacts
  const artifacts = tfjsArtifacts(resumed.last);
  const json = artifacts.modelJson as unknown as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: artifacts.weightsBin.slice().buffer }),
  );
  tf.tidy(() => (model.predict(tf.tensor2d(data.features)) as tf.Tensor).dataSync());
  model.dispose();
}

test('7. no tensor leaks over repeated train / resume / cancel / diverge / predict cycles', async () => {
  await cycle(1); // warm-up: kernels and tfjs-layers caches that live for the process
  const start = tf.memory().numTensors;
  for (let i = 2; i <= 4; i++) {
    await cycle(i);
    assert.equal(tf.memory().numTensors, start, `after cycle ${i}`);
  }
});
