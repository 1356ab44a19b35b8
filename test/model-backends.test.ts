// The training step reads and writes the wasm heap in place; every other backend goes through copies
// (tensor-memory.ts). Both paths must train the same model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, resolveSpec, resolveTraining, train } from '../src/model/index.js';
import type { CheckpointDocument } from '../src/schemas/checkpoint.js';
import type { ModelRequest } from '../src/schemas/model-spec.js';
import { maxAbsDiff, randomMatrix, toPart } from './model-helpers.js';
import { toDocument } from '../src/checkpoint/document.js';

before(async () => {
  await initBackend('wasm');
});

after(async () => {
  await tf.setBackend('wasm');
});

const flat = (doc: CheckpointDocument): number[] =>
  doc.layers.flatMap((l) =>
    l.type === 'dense' ? [...l.kernel.flat(), ...(l.bias ?? [])] : l.type === 'batchNorm' ? [...l.gamma, ...l.beta, ...l.movingMean, ...l.movingVariance] : [],
  );

const models: ModelRequest[] = [
  { hidden: [8, 4], task: 'multiclass' },
  { hidden: [6], task: 'regression', activation: 'tanh', batchNorm: { placement: 'after-activation', varianceEstimator: 'unbiased' } },
  { hidden: [5, 3], task: 'binary', activation: 'sigmoid', batchNorm: { enabled: false } },
];

for (const model of models) {
  test(`wasm and cpu train the same model (${model.task}, ${model.activation ?? 'relu'})`, async () => {
    const outputDim = model.task === 'multiclass' ? 3 : 1;
    const data = randomMatrix(7, 90, 4, (x, i) => (model.task === 'multiclass' ? i % 3 : model.task === 'binary' ? i % 2 : x[0] - x[1]));
    const training = resolveTraining({ epochs: 2, batchSize: 16, seed: 5, optimizer: 'momentum', learningRate: 0.05 });
    const spec = resolveSpec(model, { inputDim: 4, outputDim }, training.seed);
    const run = async (backend: 'wasm' | 'cpu') => {
      await tf.setBackend(backend);
      const res = await train({ modelId: backend, spec, training, data: toPart(data) });
      return { values: flat(toDocument(res.last.checkpoint)), loss: res.history[1].loss, valLoss: res.history[1].valLoss! };
    };
    const wasm = await run('wasm');
    const cpu = await run('cpu');
    const diff = maxAbsDiff(wasm.values, cpu.values);
    assert.ok(diff < 1e-5, `parameters differ by ${diff}`);
    assert.ok(Math.abs(wasm.loss - cpu.loss) < 1e-5, `${wasm.loss} vs ${cpu.loss}`);
    assert.ok(Math.abs(wasm.valLoss - cpu.valLoss) < 1e-5, `${wasm.valLoss} vs ${cpu.valLoss}`);
  });
}
