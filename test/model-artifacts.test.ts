// TF.js layers artifacts: they load with tf.loadLayersModel and predict what the checkpoint describes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, resolveSpec, resolveTraining, train } from '../src/model/index.js';
import type { ModelRequest } from '../src/schemas/model-spec.js';
import { toDocument } from '../src/checkpoint/document.js';
import { maxAbsDiff, predictByHand, randomMatrix, tfjsArtifacts, toPart } from './model-helpers.js';

before(async () => {
  await initBackend('wasm');
});

async function load(a: ReturnType<typeof tfjsArtifacts>): Promise<tf.LayersModel> {
  const json = a.modelJson as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
  const bin = a.weightsBin.buffer.slice(a.weightsBin.byteOffset, a.weightsBin.byteOffset + a.weightsBin.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights as tf.io.WeightsManifestEntry[], weightData: bin }));
}

const cases: { name: string; model: ModelRequest; outputDim: number }[] = [
  { name: 'binary, BN before relu', model: { hidden: [6, 5], task: 'binary' }, outputDim: 1 },
  { name: 'multiclass, BN after tanh', model: { hidden: [7], task: 'multiclass', activation: 'tanh', batchNorm: { placement: 'after-activation', momentum: 0.5, epsilon: 0.01 } }, outputDim: 4 },
  { name: 'regression, no BN, sigmoid', model: { hidden: [5, 3], task: 'regression', activation: 'sigmoid', batchNorm: { enabled: false } }, outputDim: 1 },
];

for (const c of cases) {
  test(`artifacts load with tf.loadLayersModel and match the checkpoint's hand formula (${c.name})`, async () => {
    const data = randomMatrix(12, 120, 3, (x, i) => (c.model.task === 'multiclass' ? i % 4 : c.model.task === 'binary' ? (x[0] > 0 ? 1 : 0) : x[1]));
    const training = resolveTraining({ epochs: 3, batchSize: 16, seed: 6 });
    const spec = resolveSpec(c.model, { inputDim: 3, outputDim: c.outputDim }, training.seed);
    const res = await train({ modelId: 'a', spec, training, data: toPart(data) });
    const model = await load(tfjsArtifacts(res.last));
    const doc = toDocument(res.last.checkpoint);
    try {
      // every checkpoint layer is one layer of the Sequential model, by name and in order
      assert.deepEqual(model.layers.map((l) => l.name), doc.layers.map((l) => l.name));
      const rows = data.features.slice(0, 20);
      const got = tf.tidy(() => (model.predict(tf.tensor2d(rows)) as tf.Tensor).arraySync() as number[][]);
      const want = rows.map((x) => predictByHand(doc.layers, x));
      assert.ok(maxAbsDiff(got.flat(), want.flat()) < 1e-5, `max difference ${maxAbsDiff(got.flat(), want.flat())}`);
      // BN moving statistics were trained away from their initial values and arrive intact
      const bnLayer = doc.layers.find((l) => l.type === 'batchNorm');
      if (bnLayer && bnLayer.type === 'batchNorm') {
        const w = model.getLayer(bnLayer.name).getWeights();
        const byName = new Map(model.getLayer(bnLayer.name).weights.map((v, i) => [v.originalName.split('/').pop(), w[i]]));
        assert.deepEqual(Array.from(byName.get('moving_variance')!.dataSync()), bnLayer.movingVariance);
        assert.ok(bnLayer.movingVariance.some((v) => Math.abs(v - 1) > 1e-3));
      }
    } finally {
      model.dispose();
    }
  });
}
