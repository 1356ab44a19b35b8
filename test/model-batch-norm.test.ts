// Batch Normalization: training forward, moving averages and the backward pass against plain-JS references.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, resolveSpec, resolveTraining, train } from '../src/model/index.js';
import { bnBackward, bnBatchStats, bnForwardTrain } from '../src/model/batch-norm.js';
import { pack } from '../src/model/data.js';
import { createNetwork, disposeNetwork, type Network } from '../src/model/network.js';
import { createOptimizer } from '../src/model/optimizer.js';
import { configureTrainEngine, createTrainStep } from '../src/model/train-step.js';
import { createPrng } from '../src/util/prng.js';
import type { BatchNormLayer } from '../src/schemas/checkpoint.js';
import type { ModelRequest, ModelSpec } from '../src/schemas/model-spec.js';
import { columnStats, maxAbsDiff, randomMatrix, toPart } from './model-helpers.js';
import { toDocument } from '../src/checkpoint/document.js';

before(async () => {
  await initBackend('wasm');
});

const H = [
  [1.5, -2.0, 0.25],
  [0.5, 3.0, -1.0],
  [-1.0, 0.5, 0.75],
  [2.0, -0.5, 1.5],
];
const GAMMA = [1.5, 0.5, -2.0];
const BETA = [0.1, -0.2, 0.3];
const EPS = 1e-3;

/** BN training forward in float64: (h - mu) / sqrt(var + eps) * gamma + beta, biased variance. */
function bnForwardJs(h: number[][], gamma: number[], beta: number[], eps: number) {
  const { mean, variance } = columnStats(h);
  const hhat = h.map((row) => row.map((v, j) => (v - mean[j]) / Math.sqrt(variance[j] + eps)));
  const r = hhat.map((row) => row.map((v, j) => gamma[j] * v + beta[j]));
  return { mean, variance, hhat, r };
}

/** A [m][k] matrix unit-major, as the engine keeps activations: [k, m] flattened. */
const unitMajor = (h: number[][]): Float32Array => Float32Array.from(h[0].flatMap((_, j) => h.map((row) => row[j])));
/** Back from unit-major [k, m] to row-major [m][k], flattened. */
const rowMajor = (a: ArrayLike<number>, m: number, k: number): number[] => Array.from({ length: m * k }, (_, n) => a[(n % k) * m + Math.floor(n / k)]);

/** The engine's BN training forward on a [m][k] matrix; r and hhat come back row-major. */
function bnForwardEngine(h: number[][], gamma: number[], beta: number[], eps: number) {
  const m = h.length;
  const k = h[0].length;
  const hhat = new Float32Array(m * k);
  const r = new Float32Array(m * k);
  const stats = bnBatchStats(k);
  bnForwardTrain(unitMajor(h), k, m, Float32Array.from(gamma), Float32Array.from(beta), eps, hhat, r, stats);
  return { r: rowMajor(r, m, k), hhat, stats };
}

test('1. BN training forward equals the formula computed by hand', () => {
  const js = bnForwardJs(H, GAMMA, BETA, EPS);
  const o = bnForwardEngine(H, GAMMA, BETA, EPS);
  const out = [o.r, rowMajor(o.hhat, H.length, GAMMA.length), o.stats.mean, o.stats.variance].map((a) => Array.from(a));
  assert.ok(maxAbsDiff(out[0], js.r.flat()) < 1e-5, `r differs by ${maxAbsDiff(out[0], js.r.flat())}`);
  assert.ok(maxAbsDiff(out[1], js.hhat.flat()) < 1e-5);
  assert.ok(maxAbsDiff(out[2], js.mean) < 1e-6);
  assert.ok(maxAbsDiff(out[3], js.variance) < 1e-5, 'the batch variance is the biased (1/m) one');
  // a concrete number: column 0 has mean 0.75, biased variance 1.3125
  assert.ok(Math.abs(js.mean[0] - 0.75) < 1e-12 && Math.abs(js.variance[0] - 1.3125) < 1e-12);
  assert.ok(Math.abs(out[0][0] - (1.5 * (1.5 - 0.75) / Math.sqrt(1.3125 + EPS) + 0.1)) < 1e-5);
});

for (const estimator of ['biased', 'unbiased'] as const) {
  test(`2. one training step moves the moving statistics by the EMA formula (${estimator})`, async () => {
    const rho = 0.9;
    const data = randomMatrix(11, 8, 3, (x) => (x[0] > 0 ? 1 : 0));
    const training = resolveTraining({ epochs: 1, batchSize: 8, validationSplit: 0, shuffle: false, seed: 5, optimizer: 'sgd' });
    const model: ModelRequest = {
      hidden: [4],
      task: 'binary',
      batchNorm: { momentum: rho, varianceEstimator: estimator },
      weightInit: { method: 'uniform', min: -0.5, max: 0.5 },
    };
    const spec = resolveSpec(model, { inputDim: 3, outputDim: 1 }, training.seed);
    const res = await train({ modelId: 'ema', spec, training, data: toPart(data) });

    // h = x . W0 from the initial weights, drawn by hand from the same PRNG stream
    const p = createPrng(spec.weightInit.seed);
    const w = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => Math.fround(p.uniform(-0.5, 0.5))));
    const h = data.features.map((x) => w[0].map((_, j) => x.reduce((s, xi, i) => s + xi * w[i][j], 0)));
    const { mean, variance } = columnStats(h);
    const m = h.length;
    const v = estimator === 'unbiased' ? variance.map((q) => (q * m) / (m - 1)) : variance;
    const expMean = mean.map((mu) => rho * 0 + (1 - rho) * mu);
    const expVar = v.map((q) => rho * 1 + (1 - rho) * q);

    const doc = toDocument(res.last.checkpoint);
    const bn = doc.layers.find((l): l is BatchNormLayer => l.type === 'batchNorm')!;
    assert.equal(doc.layers[0].type, 'dense');
    assert.ok(maxAbsDiff(bn.movingMean, expMean) < 1e-6, `moving mean ${bn.movingMean} vs ${expMean}`);
    assert.ok(maxAbsDiff(bn.movingVariance, expVar) < 1e-5, `moving variance ${bn.movingVariance} vs ${expVar}`);
    assert.ok(Math.abs(bn.movingMean[0]) > 1e-4, 'the step really moved the mean');
  });
}

test('3. BN gradients equal the closed form of the paper and central finite differences', () => {
  const p = createPrng(3);
  const m = 6;
  const k = 3;
  const h = Array.from({ length: m }, () => Array.from({ length: k }, () => Math.fround(2 * p.normal() + 0.5)));
  const dy = Array.from({ length: m }, () => Array.from({ length: k }, () => Math.fround(p.normal())));
  const gamma = [1.3, -0.7, 0.4];
  const beta = [0.2, 0.0, -0.5];

  // the paper's closed form (section 3), term by term, in float64
  const { mean: mu, variance: v } = columnStats(h);
  const dGamma = new Array<number>(k).fill(0);
  const dBeta = new Array<number>(k).fill(0);
  const dh = h.map((row) => row.map(() => 0));
  for (let j = 0; j < k; j++) {
    const sd = Math.sqrt(v[j] + EPS);
    const dhhat = dy.map((row) => row[j] * gamma[j]);
    let dvar = 0;
    for (let i = 0; i < m; i++) dvar += dhhat[i] * (h[i][j] - mu[j]) * -0.5 * (v[j] + EPS) ** -1.5;
    let dmu = 0;
    let sumc = 0;
    for (let i = 0; i < m; i++) {
      dmu += dhhat[i] * (-1 / sd);
      sumc += -2 * (h[i][j] - mu[j]);
    }
    dmu += (dvar * sumc) / m;
    for (let i = 0; i < m; i++) {
      const hhat = (h[i][j] - mu[j]) / sd;
      dh[i][j] = dhhat[i] / sd + (dvar * 2 * (h[i][j] - mu[j])) / m + dmu / m;
      dGamma[j] += dy[i][j] * hhat;
      dBeta[j] += dy[i][j];
    }
  }

  // central finite differences of L = sum(dy * r), in float64
  const L = (hh: number[][], g: number[], b: number[]) =>
    bnForwardJs(hh, g, b, EPS).r.reduce((s, row, i) => s + row.reduce((q, r, j) => q + r * dy[i][j], 0), 0);
  const step = 1e-6;
  const fdH = h.map((row, i) =>
    row.map((_, j) => {
      const plus = h.map((r) => [...r]);
      const minus = h.map((r) => [...r]);
      plus[i][j] += step;
      minus[i][j] -= step;
      return (L(plus, gamma, beta) - L(minus, gamma, beta)) / (2 * step);
    }),
  );
  const fdVec = (which: 'g' | 'b') =>
    gamma.map((_, j) => {
      const up = which === 'g' ? gamma.map((g, q) => (q === j ? g + step : g)) : beta.map((b, q) => (q === j ? b + step : b));
      const dn = which === 'g' ? gamma.map((g, q) => (q === j ? g - step : g)) : beta.map((b, q) => (q === j ? b - step : b));
      return which === 'g' ? (L(h, up, beta) - L(h, dn, beta)) / (2 * step) : (L(h, gamma, up) - L(h, gamma, dn)) / (2 * step);
    });

  // the reference itself is right (float64 vs float64)
  assert.ok(maxAbsDiff(dh.flat(), fdH.flat()) < 1e-6, 'closed form vs finite differences');
  assert.ok(maxAbsDiff(dGamma, fdVec('g')) < 1e-6 && maxAbsDiff(dBeta, fdVec('b')) < 1e-6);

  const fwd = bnForwardEngine(h, gamma, beta, EPS);
  const g = { dh: new Float32Array(m * k), dgamma: new Float32Array(k), dbeta: new Float32Array(k) };
  bnBackward(unitMajor(dy), fwd.hhat, k, m, fwd.stats.invStd, Float32Array.from(gamma), g.dh, g.dgamma, g.dbeta);
  const got = { dh: rowMajor(g.dh, m, k), dg: Array.from(g.dgamma), db: Array.from(g.dbeta) };
  // float32 engine vs float64 references
  assert.ok(maxAbsDiff(got.dh, dh.flat()) < 1e-5, `dl/dh off by ${maxAbsDiff(got.dh, dh.flat())}`);
  assert.ok(maxAbsDiff(got.dh, fdH.flat()) < 1e-5);
  assert.ok(maxAbsDiff(got.dg, dGamma) < 1e-5 && maxAbsDiff(got.dg, fdVec('g')) < 1e-5);
  assert.ok(maxAbsDiff(got.db, dBeta) < 1e-5 && maxAbsDiff(got.db, fdVec('b')) < 1e-5);
  // dl/dh sums to zero per unit: shifting a whole column does not change hhat
  for (let j = 0; j < k; j++) assert.ok(Math.abs(dh.reduce((s, row) => s + row[j], 0)) < 1e-9);
});

// The hand-written backward pass of the whole network equals tfjs autodiff of the same training forward
// pass, written here independently with tf ops (batch statistics, biased variance).
function referenceLoss(net: Network, x: tf.Tensor2D, y: tf.Tensor): tf.Scalar {
  const { activation, batchNorm, task } = net.spec as ModelSpec;
  const act = (z: tf.Tensor2D): tf.Tensor2D =>
    activation === 'relu' ? tf.relu(z) : activation === 'sigmoid' ? tf.sigmoid(z) : activation === 'tanh' ? tf.tanh(z) : z;
  let a: tf.Tensor2D = x;
  for (const l of net.hidden) {
    let z = tf.matMul(a, l.kernel) as tf.Tensor2D;
    if (l.bias) z = tf.add(z, l.bias);
    const bn = (h: tf.Tensor2D): tf.Tensor2D => {
      const { mean, variance } = tf.moments(h, 0);
      return tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, batchNorm.epsilon))), l.bn!.gamma), l.bn!.beta);
    };
    a = !l.bn ? act(z) : batchNorm.placement === 'before-activation' ? act(bn(z)) : bn(act(z));
  }
  const z = tf.add(tf.matMul(a, net.outKernel), net.outBias) as tf.Tensor2D;
  if (task === 'binary') return tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))))) as tf.Scalar;
  if (task === 'multiclass') return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y as tf.Tensor1D, z.shape[1]), tf.logSoftmax(z)), 1))) as tf.Scalar;
  return tf.mean(tf.square(tf.sub(z, y))) as tf.Scalar;
}

const variants: { task: 'binary' | 'multiclass' | 'regression'; placement?: 'before-activation' | 'after-activation'; bn: boolean; act: 'relu' | 'tanh' | 'sigmoid' }[] = [
  { task: 'binary', placement: 'before-activation', bn: true, act: 'relu' },
  { task: 'multiclass', placement: 'after-activation', bn: true, act: 'tanh' },
  { task: 'regression', bn: false, act: 'sigmoid' },
];
// every engine's gradients, each on the backend it runs on in the engine tests
const engines = [
  { engine: 'loops', backend: 'wasm' },
  { engine: 'onnx', backend: 'wasm' },
  { engine: 'tensor-ops', backend: 'cpu' },
] as const;

for (const vt of variants) for (const { engine, backend } of engines) {
  test(`network backward equals autodiff (${vt.task}, ${vt.bn ? vt.placement : 'no BN'}, ${vt.act}; ${engine} engine)`, async () => {
    await tf.setBackend(backend);
    configureTrainEngine({ engine });
    const outputDim = vt.task === 'multiclass' ? 3 : 1;
    const spec = resolveSpec(
      { hidden: [5, 4], task: vt.task, activation: vt.act, batchNorm: { enabled: vt.bn, placement: vt.placement } },
      { inputDim: 3, outputDim },
      9,
    );
    const data = randomMatrix(4, 7, 3, (x, i) => (vt.task === 'multiclass' ? i % 3 : vt.task === 'binary' ? i % 2 : x[0] * 2));
    const net = createNetwork(spec);
    const step = createTrainStep(net, createOptimizer(resolveTraining({ seed: 1 })));
    assert.equal(step.engine, engine);
    try {
      const x = tf.tensor2d(data.features);
      const y = vt.task === 'multiclass' ? tf.tensor1d(data.labels, 'int32') : tf.tensor2d(data.labels, [7, 1]);
      const mine = step.gradients(pack(toPart(data), vt.task), [0, 1, 2, 3, 4, 5, 6]);
      const auto = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => referenceLoss(net, x, y), net.trainable);
        return { loss: value.dataSync()[0], grads: net.trainable.map((v) => Array.from(grads[v.name].dataSync())) };
      });
      assert.ok(Math.abs(mine.loss - auto.loss) < 1e-5 * Math.max(1, Math.abs(auto.loss)), `loss ${mine.loss} vs ${auto.loss}`);
      assert.equal(mine.grads.length, net.trainable.length);
      mine.grads.forEach((g, i) => {
        const scale = Math.max(1e-3, ...auto.grads[i].map(Math.abs));
        assert.ok(maxAbsDiff(g, auto.grads[i]) / scale < 1e-4, `${net.trainable[i].name}: ${maxAbsDiff(g, auto.grads[i])}`);
      });
      tf.dispose([x, y]);
    } finally {
      step.dispose();
      disposeNetwork(net);
      configureTrainEngine({ engine: 'auto' });
      await tf.setBackend('wasm');
    }
  });
}
