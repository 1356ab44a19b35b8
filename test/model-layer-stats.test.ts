// The per-epoch layer statistics (src/model/layer-stats.ts) against a computation by hand, in plain
// float64 JS written here: a 3-input network with hidden [4, 3], its first hidden layer with BN (either
// placement), the second without, on a probe of 5 rows; drift between two known states; collapse flags
// on hand-set BN tensors; and training on every engine records epoch 0 and every epoch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TensorLayer } from '../src/checkpoint/checkpoint.js';
import { BnStatsTracker, epochStats, probeOf, probeUnitStats, quantiles, PROBE_ROWS } from '../src/model/layer-stats.js';
import { pack } from '../src/model/data.js';
import { resolveSpec, resolveTraining } from '../src/model/spec.js';
import { train } from '../src/model/trainer.js';
import { configureTrainEngine } from '../src/model/train-step.js';
import { partFromRows } from '../src/datasets/arrays.js';
import type { BnStatsEpoch } from '../src/schemas/bn-stats.js';

const ROWS = [
  [0.5, -1, 2],
  [1.5, 0.25, -0.5],
  [-2, 1, 0],
  [0, 0.75, 1.25],
  [3, -0.5, -1],
];
const K0 = [
  [0.2, -0.4, 1, 0.3],
  [-0.7, 0.5, 0.1, -0.2],
  [0.05, 0.6, -0.3, 0.9],
];
const B0 = [0.1, -0.2, 0.3, 0];
const BN0 = { gamma: [1.5, 0.8, -1.2, 0.5], beta: [0.1, -0.3, 0.2, 0], movingMean: [0.2, 0.1, -0.1, 0.4], movingVariance: [1.2, 0.9, 2, 0.5] };
const K1 = [
  [0.3, -0.6, 0.2],
  [1.1, 0.4, -0.5],
  [-0.2, 0.7, 0.9],
  [0.5, -0.1, 0.3],
];
const B1 = [0.05, -0.1, 0.2];
const EPS = 0.001;

const f32 = (a: number[]) => Float32Array.from(a);
const flat = (m: number[][]) => f32(m.flat());

function layers(placement: 'before-activation' | 'after-activation', bn = BN0): TensorLayer[] {
  const batchNorm: TensorLayer = {
    type: 'batchNorm',
    name: 'batch_norm_0',
    gamma: f32(bn.gamma),
    beta: f32(bn.beta),
    movingMean: f32(bn.movingMean),
    movingVariance: f32(bn.movingVariance),
    epsilon: EPS,
    momentum: 0.99,
    varianceEstimator: 'biased',
  };
  const dense0: TensorLayer = { type: 'dense', name: 'dense_0', inputs: 3, units: 4, kernel: flat(K0), ...(placement === 'after-activation' && { bias: f32(B0) }) };
  const act0: TensorLayer = { type: 'activation', name: 'activation_0', fn: 'relu' };
  return [
    dense0,
    ...(placement === 'before-activation' ? [batchNorm, act0] : [act0, batchNorm]),
    { type: 'dense', name: 'dense_1', inputs: 4, units: 3, kernel: flat(K1), bias: f32(B1) },
    { type: 'activation', name: 'activation_1', fn: 'tanh' },
    { type: 'dense', name: 'dense_out', inputs: 3, units: 1, kernel: f32([1, -1, 0.5]), bias: f32([0]) },
    { type: 'activation', name: 'activation_out', fn: 'sigmoid' },
  ];
}

// ---- by hand: row-major number[][], float64 ----
const denseByHand = (x: number[][], k: number[][], b?: number[]) => x.map((r) => k[0].map((_, j) => r.reduce((s, v, i) => s + v * k[i][j], b ? b[j] : 0)));
const columns = (x: number[][]) => x[0].map((_, j) => x.map((r) => r[j]));
const meanOf = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;
const stdOf = (v: number[]) => Math.sqrt(meanOf(v.map((a) => (a - meanOf(v)) ** 2)));
function bnTrainByHand(h: number[][], bn: typeof BN0) {
  const cols = columns(h);
  const mu = cols.map(meanOf);
  const sd = cols.map((c) => Math.sqrt(stdOf(c) ** 2 + EPS));
  return h.map((r) => r.map((v, j) => (bn.gamma[j] * (v - mu[j])) / sd[j] + bn.beta[j]));
}
function quantilesByHand(v: number[]) {
  const s = [...v].sort((a, b) => a - b);
  return [0, 0.1, 0.5, 0.9, 1].map((q) => {
    const pos = q * (s.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, s.length - 1);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  });
}
/** Per hidden layer the pre-activation's per-unit mean and std over the rows. */
function preActivationsByHand(placement: 'before-activation' | 'after-activation', rows = ROWS, bn = BN0) {
  const z0 = denseByHand(rows, K0, placement === 'after-activation' ? B0 : undefined);
  const relu = (m: number[][]) => m.map((r) => r.map((v) => Math.max(0, v)));
  const pre0 = placement === 'before-activation' ? z0 : relu(z0);
  const out0 = placement === 'before-activation' ? relu(bnTrainByHand(z0, bn)) : bnTrainByHand(pre0, bn);
  const pre1 = denseByHand(out0, K1, B1);
  return [pre0, pre1].map((m) => ({ mean: columns(m).map(meanOf), std: columns(m).map(stdOf) }));
}

function close(actual: readonly number[], expected: readonly number[], what: string) {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])), `${what}[${i}]: ${a} vs ${expected[i]}`));
}

const probe = pack(partFromRows(ROWS, [0, 1, 0, 1, 1]), 'binary');

for (const placement of ['before-activation', 'after-activation'] as const) {
  test(`per-unit statistics and their quantiles match a computation by hand (BN ${placement}, then a layer without BN)`, () => {
    const ls = layers(placement);
    const before = ls.map((l) => (l.type === 'batchNorm' ? [...l.movingMean, ...l.movingVariance, ...l.gamma] : []));
    const units = probeUnitStats(ls, probe);
    const hand = preActivationsByHand(placement);
    assert.equal(units.length, 2);
    units.forEach((u, l) => {
      close([...u.mean], hand[l].mean, `layer ${l} mean`);
      close([...u.std], hand[l].std, `layer ${l} std`);
    });
    // The probe forward reads the BN tensors and updates nothing.
    assert.deepEqual(ls.map((l) => (l.type === 'batchNorm' ? [...l.movingMean, ...l.movingVariance, ...l.gamma] : [])), before);

    const record = epochStats(0, units);
    assert.equal(record.epoch, 0);
    const [l0, l1] = record.layers;
    assert.deepEqual([l0.layer, l0.units, l0.batchNorm, l1.layer, l1.units, l1.batchNorm], [0, 4, true, 1, 3, false]);
    close(l0.mean, quantilesByHand(hand[0].mean), 'layer 0 mean quantiles');
    close(l0.std, quantilesByHand(hand[0].std), 'layer 0 std quantiles');
    close(l1.mean, quantilesByHand(hand[1].mean), 'layer 1 mean quantiles');
    close(l1.std, quantilesByHand(hand[1].std), 'layer 1 std quantiles');
    close(l0.gamma!, quantilesByHand(BN0.gamma), 'gamma');
    close(l0.beta!, quantilesByHand(BN0.beta), 'beta');
    close(l0.movingMean!, quantilesByHand(BN0.movingMean), 'movingMean');
    close(l0.movingVariance!, quantilesByHand(BN0.movingVariance), 'movingVariance');
    assert.deepEqual(l0.collapsed, { movingVariance: [], gamma: [] });
    // Epoch 0 has no drift; a layer without BN has no BN fields.
    assert.equal(l0.meanDrift, undefined);
    assert.equal(l0.stdDrift, undefined);
    assert.deepEqual(Object.keys(l1).sort(), ['batchNorm', 'layer', 'mean', 'std', 'units']);
  });
}

test('quantiles interpolate linearly between order statistics (as numpy)', () => {
  assert.deepEqual(quantiles([3, 1, 2]), [1, 1.2, 2, 2.8, 3]);
  assert.deepEqual(quantiles([5]), [5, 5, 5, 5, 5]);
  close(quantiles([10, 0, 4, 7]), [0, 1.2, 5.5, 9.1, 10], 'four values');
});

test('drift between two known states matches the computation by hand', () => {
  // The second state is the first with other gamma and beta: the second layer's input moves, the first's cannot.
  const bn2 = { ...BN0, gamma: [0.9, 1.1, -0.4, 2], beta: [0.5, 0.2, -0.1, 0.3] };
  const tracker = new BnStatsTracker(probe);
  const first = tracker.measure(3, layers('before-activation'));
  const second = tracker.measure(4, layers('before-activation', bn2));
  assert.equal(first.layers[1].meanDrift, undefined, 'the first measure has no previous one');
  const a = preActivationsByHand('before-activation');
  const b = preActivationsByHand('before-activation', ROWS, bn2);
  for (const l of [0, 1]) {
    const md = b[l].mean.map((m, j) => Math.abs(m - a[l].mean[j]) / a[l].std[j]);
    const sd = b[l].std.map((s, j) => Math.abs(s / a[l].std[j] - 1));
    close(second.layers[l].meanDrift!, quantilesByHand(md), `layer ${l} meanDrift`);
    close(second.layers[l].stdDrift!, quantilesByHand(sd), `layer ${l} stdDrift`);
  }
  // The first layer's input does not depend on BN parameters: no drift at all there; the second moved.
  close(second.layers[0].meanDrift!, [0, 0, 0, 0, 0], 'layer 0 meanDrift');
  assert.ok(second.layers[1].meanDrift![4] > 0.01);
  // start() measures a resumed state without a record: the next measure drifts against it.
  const resumed = new BnStatsTracker(probe);
  resumed.start(layers('before-activation'));
  assert.deepEqual(resumed.measure(4, layers('before-activation', bn2)), second);
});

test('collapse flags list the units whose moving variance or |gamma| is below the thresholds', () => {
  const bn = { ...BN0, gamma: [1.5, -0.0005, 0.002, 0], movingVariance: [5e-5, 0.9, 2e-4, 1e-6] };
  const record = epochStats(2, probeUnitStats(layers('after-activation', bn), probe));
  assert.deepEqual(record.layers[0].collapsed, { movingVariance: [0, 3], gamma: [1, 3] });
  assert.equal(record.layers[1].collapsed, undefined);
});

test('the probe is the first min(256, n) training rows', () => {
  const rows = Array.from({ length: 300 }, (_, i) => [i, -i, 1]);
  const p = probeOf(pack(partFromRows(rows, rows.map((_, i) => i % 2)), 'binary'));
  assert.equal(p.n, PROBE_ROWS);
  assert.deepEqual([...p.x.subarray(0, 6)], [0, -0, 1, 1, -1, 1]);
  assert.equal(probeOf(probe).n, 5);
});

for (const engine of ['loops', 'onnx', 'tensor-ops'] as const) {
  test(`training (engine ${engine}) records epoch 0 (the initialised network) at the start and every epoch with its checkpoint`, async (t) => {
    configureTrainEngine({ engine });
    t.after(() => configureTrainEngine({ engine: 'auto' }));
    const training = resolveTraining({ epochs: 3, batchSize: 4, learningRate: 0.05, seed: 5, validationSplit: 0.2 });
    const spec = resolveSpec({ hidden: [4, 3], task: 'binary', batchNorm: { enabled: true } }, { inputDim: 3, outputDim: 1 }, 5);
    const rows = Array.from({ length: 40 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7), (i % 5) - 2]);
    const data = partFromRows(rows, rows.map((r) => (r[0] + r[2] > 0 ? 1 : 0)));
    let initial: BnStatsEpoch | undefined;
    let probeRows = 0;
    const saved: { stats: BnStatsEpoch; layers: TensorLayer[] }[] = [];
    await train({
      modelId: 'm_stats',
      spec,
      training,
      data,
      onStart: (s) => {
        initial = s.bnStats;
        probeRows = s.probeRows;
      },
      onCheckpoint: (s) => void saved.push({ stats: s.bnStats, layers: s.checkpoint.layers }),
    });
    assert.equal(probeRows, 32, 'the 32 training rows left by the validation split');
    assert.equal(initial?.epoch, 0);
    // The initialised network: gamma 1, beta 0, moving statistics 0 and 1.
    assert.deepEqual(initial.layers[0].gamma, [1, 1, 1, 1, 1]);
    assert.deepEqual(initial.layers[0].movingVariance, [1, 1, 1, 1, 1]);
    assert.deepEqual(saved.map((s) => s.stats.epoch), [1, 2, 3]);
    // Each record is its checkpoint's weights measured on the probe, drifting against the epoch before.
    const p = pack(data, 'binary', 0, 32);
    assert.ok(saved[0].stats.layers[0].meanDrift, 'epoch 1 drifts against epoch 0');
    for (const [i, s] of saved.entries()) {
      if (i === 0) {
        const noDrift = { ...s.stats, layers: s.stats.layers.map(({ meanDrift: _m, stdDrift: _s, ...l }) => l) };
        assert.deepEqual(noDrift, epochStats(1, probeUnitStats(s.layers, p)));
      } else {
        const tracker = new BnStatsTracker(p);
        tracker.start(saved[i - 1].layers);
        assert.deepEqual(s.stats, tracker.measure(s.stats.epoch, s.layers));
      }
    }
  });
}
