import assert from 'node:assert/strict';
import test from 'node:test';
import { learningRateAt, type ResolvedSchedule } from '../src/model/lr-schedule.js';
import { earlyStoppingState } from '../src/model/early-stopping.js';
import type { EpochMetrics } from '../src/schemas/checkpoint.js';

const schedule = (s: Partial<ResolvedSchedule>): ResolvedSchedule => ({
  type: 'constant',
  stepEpochs: 10,
  factor: 0.1,
  minLearningRate: 0,
  warmupEpochs: 0,
  ...s,
});
const rates = (s: ResolvedSchedule, base: number, epochs: number) =>
  Array.from({ length: epochs }, (_, i) => learningRateAt(s, base, i + 1, epochs));

test('constant schedule: the base rate every epoch', () => {
  assert.deepEqual(rates(schedule({}), 0.01, 4), [0.01, 0.01, 0.01, 0.01]);
});

test('step schedule: times factor every stepEpochs epochs', () => {
  const r = rates(schedule({ type: 'step', stepEpochs: 2, factor: 0.5 }), 0.1, 6);
  assert.deepEqual(r, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
});

test('cosine schedule: from the base rate toward the floor along half a cosine, as CosineAnnealingLR', () => {
  const r = rates(schedule({ type: 'cosine', minLearningRate: 0.001 }), 0.1, 4);
  // PyTorch: eta_t = eta_min + (eta_max - eta_min) * (1 + cos(pi t / T_max)) / 2, t = 0..3, T_max = 4
  const expected = [0, 1, 2, 3].map((t) => 0.001 + (0.1 - 0.001) * (1 + Math.cos((Math.PI * t) / 4)) / 2);
  r.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-15, `epoch ${i + 1}: ${v} vs ${expected[i]}`));
  assert.equal(r[0], 0.1);
  assert.ok(r[3] > 0.001 && r[3] < r[2]);
});

test('warm-up: linear up to the base rate, then the schedule counts from the end of the warm-up', () => {
  const r = rates(schedule({ type: 'step', stepEpochs: 1, factor: 0.5, warmupEpochs: 4 }), 0.2, 6);
  assert.deepEqual(r, [0.05, 0.1, 0.15000000000000002, 0.2, 0.2, 0.1]);
  const c = rates(schedule({ type: 'cosine', warmupEpochs: 2 }), 1, 4);
  assert.deepEqual(c.slice(0, 3), [0.5, 1, 1]);
  assert.ok(Math.abs(c[3] - 0.5) < 1e-15, 'second epoch after warm-up: halfway down a 2-epoch cosine');
});

test('a warm-up as long as the job ends at the base rate', () => {
  assert.deepEqual(rates(schedule({ warmupEpochs: 10 }), 1, 2), [0.5, 1]);
});

const epochs = (...losses: (number | undefined)[]): EpochMetrics[] =>
  losses.map((valLoss, i) => ({ epoch: i + 1, loss: 1, valLoss, samplesPerSecond: 1, durationMs: 1 }));

test('early stopping stops after patience epochs without an improvement larger than minDelta', () => {
  const rule = { monitor: 'valLoss' as const, patience: 2, minDelta: 0.01 };
  assert.equal(earlyStoppingState(rule, epochs(1, 0.9, 0.8)).stop, false);
  const s = earlyStoppingState(rule, epochs(1, 0.9, 0.895, 0.899));
  assert.deepEqual(s, { best: 0.9, bestEpoch: 2, wait: 2, stop: true });
  // an improvement resets the count
  assert.equal(earlyStoppingState(rule, epochs(1, 0.9, 0.95, 0.5, 0.6)).stop, false);
});

test('early stopping on the training loss; a missing or non-finite value is no improvement', () => {
  const rule = { monitor: 'loss' as const, patience: 1, minDelta: 0 };
  const h: EpochMetrics[] = [
    { epoch: 1, loss: 0.5, samplesPerSecond: 1, durationMs: 1 },
    { epoch: 2, loss: 0.5, samplesPerSecond: 1, durationMs: 1 },
  ];
  assert.deepEqual(earlyStoppingState(rule, h), { best: 0.5, bestEpoch: 1, wait: 1, stop: true });
  const v = earlyStoppingState({ monitor: 'valLoss', patience: 3, minDelta: 0 }, epochs(undefined, Number.NaN, 0.4));
  assert.deepEqual(v, { best: 0.4, bestEpoch: 3, wait: 0, stop: false });
});

import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/model/backend.js';
import { createNetwork, disposeNetwork, namedVariables } from '../src/model/network.js';
import { pack } from '../src/model/data.js';
import { recomputeBnStatistics } from '../src/model/precise-bn.js';
import { snapshot, toLayers } from '../src/model/checkpoint-format.js';
import { resolveSpec } from '../src/model/spec.js';
import type { BatchNormLayer, CheckpointLayer } from '../src/schemas/checkpoint.js';
import { columnStats, randomMatrix } from './model-helpers.js';

/** The input of every BN layer over all rows, by hand in float64, each BN below measured first and frozen. */
function preciseByHand(layers: CheckpointLayer[], rows: number[][]): { mean: number[]; variance: number[]; n: number }[] {
  const out: { mean: number[]; variance: number[]; n: number }[] = [];
  let acts = rows.map((r) => [...r]);
  for (const l of layers) {
    if (l.type === 'dense') {
      const units = l.kernel[0].length;
      acts = acts.map((a) =>
        Array.from({ length: units }, (_, j) => a.reduce((s, v, i) => s + v * l.kernel[i][j], l.bias ? l.bias[j] : 0)),
      );
    } else if (l.type === 'batchNorm') {
      const { mean, variance } = columnStats(acts);
      out.push({ mean, variance, n: acts.length });
      const bn: BatchNormLayer = { ...l, movingMean: mean, movingVariance: variance };
      acts = acts.map((a) => a.map((h, j) => (bn.gamma[j] * (h - bn.movingMean[j])) / Math.sqrt(bn.movingVariance[j] + bn.epsilon) + bn.beta[j]));
    } else if (l.fn === 'relu') acts = acts.map((a) => a.map((v) => Math.max(0, v)));
    else if (l.fn === 'tanh') acts = acts.map((a) => a.map(Math.tanh));
  }
  return out;
}

for (const placement of ['before-activation', 'after-activation'] as const) {
  for (const varianceEstimator of ['biased', 'unbiased'] as const) {
    test(`precise BN statistics (${placement}, ${varianceEstimator}) equal each BN input's mean and variance over the rows, layers below frozen`, async () => {
      await initBackend('cpu');
      const spec = resolveSpec(
        { hidden: [7, 5, 3], task: 'binary', activation: 'tanh', batchNorm: { placement, varianceEstimator, epsilon: 1e-3 } },
        { inputDim: 4, outputDim: 1 },
        11,
      );
      const data = randomMatrix(5, 9_000, 4, (x) => (x[0] > 0 ? 1 : 0));
      // scale the inputs so that the statistics are far from the initial 0 / 1
      data.features = data.features.map((r) => r.map((v, j) => 3 * v + j));
      const net = createNetwork(spec);
      try {
        // non-trivial gamma and beta, so that the layers below really change what each layer sees
        for (const l of net.hidden) {
          l.bn!.gamma.assign(tf.tensor1d(Array.from({ length: l.units }, (_, j) => 0.5 + 0.25 * j)));
          l.bn!.beta.assign(tf.tensor1d(Array.from({ length: l.units }, (_, j) => 0.1 * j - 0.2)));
        }
        const got = recomputeBnStatistics(net, pack(data, 4, 'binary'));
        // by hand from the gamma, beta and kernels, the network's moving statistics ignored
        const layers = toLayers(net, await snapshot(namedVariables(net)));
        const want = preciseByHand(layers, data.features);
        assert.equal(got.length, 3);
        got.forEach((g, k) => {
          const w = want[k];
          const correction = varianceEstimator === 'unbiased' ? w.n / (w.n - 1) : 1;
          for (let j = 0; j < w.mean.length; j++) {
            assert.ok(Math.abs(g.mean[j] - w.mean[j]) <= 1e-4 * (1 + Math.abs(w.mean[j])), `layer ${k} unit ${j} mean ${g.mean[j]} vs ${w.mean[j]}`);
            const v = w.variance[j] * correction;
            assert.ok(Math.abs(g.variance[j] - v) <= 1e-4 * v, `layer ${k} unit ${j} variance ${g.variance[j]} vs ${v}`);
          }
        });
        // and they are what the network now holds
        const stats = layers.filter((l): l is BatchNormLayer => l.type === 'batchNorm');
        stats.forEach((l, k) => {
          assert.deepEqual(l.movingMean, Array.from(Float32Array.from(got[k].mean)));
          assert.deepEqual(l.movingVariance, Array.from(Float32Array.from(got[k].variance)));
        });
      } finally {
        disposeNetwork(net);
      }
    });
  }
}
