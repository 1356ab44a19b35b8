// Resolving and validating specifications and data (pure, no tfjs), and backend selection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  initBackend,
  outputDimFor,
  resolveSpec,
  resolveTraining,
  SpecError,
  train,
  validateData,
  validateSpec,
  validateTraining,
} from '../src/model/index.js';
import type { ModelSpec } from '../src/schemas/model-spec.js';
import { toPart } from './model-helpers.js';

const base = (): ModelSpec => resolveSpec({ hidden: [4, 3], task: 'binary' }, { inputDim: 2, outputDim: 1 }, 42);

test('resolveSpec and resolveTraining fill the documented defaults', () => {
  assert.deepEqual(base(), {
    inputDim: 2,
    outputDim: 1,
    hidden: [4, 3],
    activation: 'relu',
    task: 'binary',
    batchNorm: { enabled: true, placement: 'before-activation', momentum: 0.99, epsilon: 1e-3, varianceEstimator: 'biased' },
    weightInit: { method: 'glorot-uniform', min: -0.05, max: 0.05, seed: 42 },
  });
  const t = resolveTraining();
  assert.deepEqual({ ...t, seed: 0 }, {
    epochs: 10,
    batchSize: 32,
    optimizer: 'adam',
    learningRate: 0.01,
    validationSplit: 0.2,
    shuffle: true,
    seed: 0,
    progressEveryBatches: 0,
    checkpoints: { keepLast: 20, keepBest: 1 },
    learningRateSchedule: { type: 'constant', stepEpochs: 10, factor: 0.1, minLearningRate: 0, warmupEpochs: 0 },
    bnStatistics: 'ema',
  });
  // Early stopping is off unless asked for; asked for, it watches the validation loss (as Keras does) with a patience of 5 epochs.
  assert.deepEqual(resolveTraining({ seed: 1, earlyStopping: {} }).earlyStopping, { monitor: 'valLoss', patience: 5, minDelta: 0 });
  assert.ok(Number.isInteger(t.seed) && t.seed >= 0 && t.seed < 2 ** 31, 'a random seed is chosen and recorded');
  assert.equal(resolveTraining({ seed: 9, epochs: 3 }).seed, 9);
  const explicit = resolveSpec({ hidden: [2], task: 'regression', weightInit: { seed: 5, method: 'uniform', min: -1, max: 2 } }, { inputDim: 1, outputDim: 1 }, 42);
  assert.deepEqual(explicit.weightInit, { method: 'uniform', min: -1, max: 2, seed: 5 });
  validateSpec(base());
  validateTraining(t);
});

test('outputDimFor: 1 for binary and regression, max label + 1 (at least 2) for multiclass', () => {
  assert.equal(outputDimFor('binary', [0, 1, 1]), 1);
  assert.equal(outputDimFor('regression', [3.5, 7]), 1);
  assert.equal(outputDimFor('multiclass', [0, 4, 2]), 5);
  assert.equal(outputDimFor('multiclass', [0, 0]), 2);
  assert.equal(outputDimFor('multiclass', []), 2);
});

function rejects(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SpecError, `expected a SpecError, got ${String(err)}`);
    assert.equal(err.field, field);
    assert.match(err.message, message);
    assert.ok(err.message.startsWith(`${field}: `), 'the message names the field');
    return true;
  });
}

test('8. invalid specifications are rejected with the field and the problem named', () => {
  const bad = (edit: (s: ModelSpec) => void) => () => {
    const s = base();
    edit(s);
    validateSpec(s);
  };
  rejects(bad((s) => (s.hidden[0] = 0)), 'model.hidden[0]', /must be > 0/);
  rejects(bad((s) => (s.hidden[1] = 2.5)), 'model.hidden[1]', /integer/);
  rejects(bad((s) => (s.hidden = [])), 'model.hidden', /at least one/);
  rejects(bad((s) => (s.hidden[0] = 5000)), 'model.hidden[0]', /<= 4096/);
  rejects(bad((s) => (s.batchNorm.epsilon = -1e-3)), 'model.batchNorm.epsilon', /must be > 0/);
  rejects(bad((s) => (s.batchNorm.epsilon = 0)), 'model.batchNorm.epsilon', /must be > 0/);
  rejects(bad((s) => (s.batchNorm.momentum = 1)), 'model.batchNorm.momentum', /\[0, 1\)/);
  rejects(bad((s) => (s.batchNorm.momentum = -0.1)), 'model.batchNorm.momentum', /\[0, 1\)/);
  rejects(bad((s) => (s.batchNorm.momentum = NaN)), 'model.batchNorm.momentum', /\[0, 1\)/);
  rejects(bad((s) => ((s as { activation: string }).activation = 'swish')), 'model.activation', /one of relu, sigmoid, tanh, linear.*swish/);
  rejects(bad((s) => ((s as { task: string }).task = 'ranking')), 'model.task', /one of binary, multiclass, regression/);
  rejects(bad((s) => ((s.batchNorm as { placement: string }).placement = 'middle')), 'model.batchNorm.placement', /one of/);
  rejects(bad((s) => Object.assign(s.weightInit, { method: 'uniform', min: 1, max: 1 })), 'model.weightInit.min', /must be < model.weightInit.max/);
  rejects(bad((s) => (s.inputDim = 0)), 'model.inputDim', /must be > 0/);
  rejects(bad((s) => (s.outputDim = 3)), 'model.outputDim', /must be 1 for task binary/);
  rejects(bad((s) => Object.assign(s, { task: 'multiclass', outputDim: 1 })), 'model.outputDim', />= 2/);
  rejects(() => validateTraining({ ...resolveTraining({ seed: 1 }), batchSize: 0 }), 'training.batchSize', /must be > 0/);
  rejects(() => validateTraining({ ...resolveTraining({ seed: 1 }), learningRate: -1 }), 'training.learningRate', /must be > 0/);
});

test('8. invalid data is rejected with the cell and the problem named (rows by the datasets\' row validator)', () => {
  const bin = base();
  const part = (features: number[][], labels: number[]) => toPart({ features, labels });
  const ok = part([[0, 1], [2, 3], [4, 5]], [0, 1, 1]);
  validateData(bin, ok);
  rejects(() => validateData(bin, { ...ok, rows: 0, x: new Float32Array(0), y: new Float32Array(0) }), 'data.features', /at least one row/);
  rejects(() => validateData(bin, part([[0, 1], [2, NaN]], [0, 1])), 'data.features[1][1]', /finite number, got NaN/);
  rejects(() => validateData(bin, part([[0, 1], [Infinity, 1]], [0, 1])), 'data.features[1][0]', /finite/);
  rejects(() => validateData(bin, part([[0], [2]], [0, 1])), 'data.features', /has 1 values per row, expected 2 \(the model's inputDim\)/);
  rejects(() => validateData(bin, { ...ok, y: new Float32Array([0, 1]) }), 'data.labels', /one per row/);
  rejects(() => validateData(bin, part([[0, 1], [2, 3], [4, 5]], [0, 2, 1])), 'data.labels[1]', /must be 0 or 1/);
  rejects(() => validateData(bin, part([[0, 1], [2, 3], [4, 5]], [0, 1, NaN])), 'data.labels[2]', /finite/);
  const multi = resolveSpec({ hidden: [3], task: 'multiclass' }, { inputDim: 2, outputDim: 3 }, 1);
  const rows = [[0, 1], [2, 3], [4, 5]];
  validateData(multi, part(rows, [0, 2, 1]));
  rejects(() => validateData(multi, part(rows, [0, 3, 1])), 'data.labels[1]', /integer class in \[0, 3\)/);
  rejects(() => validateData(multi, part(rows, [0, 1.5, 1])), 'data.labels[1]', /integer class/);
  rejects(() => validateData(multi, part(rows, [-1, 1, 1])), 'data.labels[0]', /integer class/);
  rejects(() => validateData(multi, part(rows, [0, 5, 1]), 'validation'), 'validation.labels[1]', /integer class in \[0, 3\)/);
  // uint8 parts are checked with their scale; their values are always finite
  validateData(bin, { rows: 1, features: 2, x: Uint8Array.from([0, 255]), scale: 1 / 255, y: new Float32Array([1]) });
});

test('train() validates before touching tfjs-heavy work', async () => {
  const spec = base();
  spec.batchNorm.momentum = 1.5;
  await assert.rejects(
    train({ modelId: 'x', spec, training: resolveTraining({ seed: 1 }), data: toPart({ features: [[0, 1]], labels: [0] }) }),
    (err: unknown) => err instanceof SpecError && err.field === 'model.batchNorm.momentum',
  );
  const tiny = base();
  await assert.rejects(
    train({ modelId: 'x', spec: tiny, training: resolveTraining({ seed: 1, validationSplit: 0.5 }), data: toPart({ features: [[0, 1]], labels: [0] }) }),
    (err: unknown) => err instanceof SpecError && err.field === 'training.validationSplit',
  );
});

test('initBackend picks wasm on this machine, reports what it tried, and is idempotent', async () => {
  const first = await initBackend('auto');
  const second = await initBackend('cpu');
  assert.equal(second, first);
  assert.ok(['wasm', 'tensorflow'].includes(first.backend), first.backend);
  if (first.requested === 'auto' && first.backend === 'wasm') {
    assert.deepEqual(first.tried.map((t) => t.name), ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'wasm']);
    assert.ok(first.tried[0].error && first.tried[1].error && !first.tried[2].error);
  }
});
