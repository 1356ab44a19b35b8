// Frozen inference equals the BN formula with the moving statistics, row by row, and never moves them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDirectEngine, createFoldedEngine } from '../src/inference/index.js';
import type { CheckpointDocument } from '../src/schemas/checkpoint.js';
import type { BatchNormTrace } from '../src/inference/types.js';
import { makeCheckpoint, randomRows } from './helpers/make-checkpoint.js';
import { fromDocument } from '../src/checkpoint/document.js';

const engines = [createDirectEngine(), createFoldedEngine()];

/** The inference formulas of the BN paper (Algorithm 2), as plain loops over the document: the reference for everything. */
function handForward(doc: CheckpointDocument, x: readonly number[]): { y: number[]; bn: BatchNormTrace[] } {
  let v = [...x];
  const bn: BatchNormTrace[] = [];
  for (const layer of doc.layers) {
    if (layer.type === 'dense') {
      const m = layer.kernel[0].length;
      const h: number[] = [];
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let i = 0; i < v.length; i++) s += v[i] * layer.kernel[i][j];
        h.push(s + (layer.bias ? layer.bias[j] : 0));
      }
      v = h;
    } else if (layer.type === 'batchNorm') {
      const hhat = v.map((h, j) => (h - layer.movingMean[j]) / Math.sqrt(layer.movingVariance[j] + layer.epsilon));
      const r = hhat.map((z, j) => layer.gamma[j] * z + layer.beta[j]);
      bn.push({ name: layer.name, h: v, hhat, r });
      v = r;
    } else if (layer.fn === 'relu') v = v.map((z) => Math.max(0, z));
    else if (layer.fn === 'sigmoid') v = v.map((z) => 1 / (1 + Math.exp(-z)));
    else if (layer.fn === 'tanh') v = v.map(Math.tanh);
    else if (layer.fn === 'softmax') {
      const max = Math.max(...v);
      const e = v.map((z) => Math.exp(z - max));
      const sum = e.reduce((a, b) => a + b, 0);
      v = e.map((z) => z / sum);
    }
  }
  return { y: v, bn };
}

function assertClose(actual: readonly number[], expected: readonly number[], rel: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let j = 0; j < expected.length; j++) {
    const tol = rel * Math.max(1, Math.abs(expected[j]));
    assert.ok(Math.abs(actual[j] - expected[j]) <= tol, `${what}[${j}]: ${actual[j]} vs ${expected[j]}`);
  }
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** A net small enough to work out on paper (every intermediate value is exact in binary). */
function paperCheckpoint(): CheckpointDocument {
  const doc = makeCheckpoint({ inputDim: 2, hidden: [2], task: 'binary', batchNorm: { epsilon: 0.25 } });
  doc.layers = [
    { type: 'dense', name: 'dense_0', kernel: [[1, -1], [0.5, 2]] },
    {
      type: 'batchNorm', name: 'bn_0', gamma: [2, 0.5], beta: [0.25, 1], movingMean: [1, 5], movingVariance: [3.75, 0.75],
      epsilon: 0.25, momentum: 0.99, varianceEstimator: 'biased',
    },
    { type: 'activation', name: 'relu_0', fn: 'relu' },
    { type: 'dense', name: 'dense_out', kernel: [[2], [7]], bias: [-0.5] },
    { type: 'activation', name: 'sigmoid_out', fn: 'sigmoid' },
  ];
  return doc;
}

test('a paper-and-pencil net: h = [2, 3], hhat = [0.5, -2], r = [1.25, 0], y = sigmoid(2)', async () => {
  // h = [1*1 + 2*0.5, 1*-1 + 2*2]; sqrt(var + eps) = [2, 1]; hhat = (h - mean) / sd; r = gamma*hhat + beta;
  // relu(r) = [1.25, 0]; z = 1.25*2 + 0*7 - 0.5 = 2.
  const doc = paperCheckpoint();
  const y = 1 / (1 + Math.exp(-2));
  for (const engine of engines) {
    const model = await engine.load(fromDocument(doc));
    assert.deepEqual(await model.predictOne([1, 2]), [y], engine.name);
    const e = await model.explain([1, 2]);
    assert.deepEqual(e.batchNorm, [{ name: 'bn_0', h: [2, 3], hhat: [0.5, -2], r: [1.25, 0] }], engine.name);
    assert.deepEqual(e.y, [y]);
    assert.equal(model.inputDim, 2);
    assert.equal(model.outputDim, 1);
    assert.equal(model.modelId, doc.modelId);
    assert.equal(model.epoch, doc.epoch);
  }
});

for (const placement of ['before-activation', 'after-activation'] as const) {
  test(`one point equals the hand formula with frozen statistics, and its row in a batch of 101 (${placement})`, async () => {
    const doc = makeCheckpoint({ inputDim: 5, hidden: [16, 8], task: 'multiclass', classes: 4, batchNorm: { placement }, seed: 3 });
    const rows = randomRows(101, 5, 11);
    const x = rows[42];
    const hand = handForward(doc, x);
    for (const engine of engines) {
      const model = await engine.load(fromDocument(doc));
      const one = await model.predictOne(x);
      assertClose(one, hand.y, 1e-12, `${engine.name} predictOne`);
      const batch = await model.predict(rows);
      assert.equal(batch.length, 101);
      // Bit-identical: no batch statistics, and the same code path per row.
      assert.deepStrictEqual(batch[42], one, `${engine.name}: row 42 in the batch`);
      for (let r = 0; r < rows.length; r += 10) assert.deepStrictEqual(batch[r], await model.predictOne(rows[r]));
      // Order and company do not matter either.
      assert.deepStrictEqual((await model.predict([x]))[0], one);
      assert.deepStrictEqual((await model.predict([...rows].reverse()))[100 - 42], one);
    }
  });

  test(`explain gives h, hhat and r of every BN layer by the formula, in both engines (${placement})`, async () => {
    const doc = makeCheckpoint({ inputDim: 3, hidden: [6, 5, 4], task: 'regression', activation: 'tanh', batchNorm: { placement }, seed: 5 });
    const x = [0.3, -1.2, 2.5];
    const hand = handForward(doc, x);
    assert.equal(hand.bn.length, 3);
    for (const engine of engines) {
      const model = await engine.load(fromDocument(doc));
      const e = await model.explain(x);
      assert.deepEqual(e.batchNorm.map((t) => t.name), ['batch_normalization_0', 'batch_normalization_1', 'batch_normalization_2']);
      e.batchNorm.forEach((t, k) => {
        assertClose(t.h, hand.bn[k].h, 1e-12, `${engine.name} ${t.name}.h`);
        assertClose(t.hhat, hand.bn[k].hhat, 1e-12, `${engine.name} ${t.name}.hhat`);
        assertClose(t.r, hand.bn[k].r, 1e-12, `${engine.name} ${t.name}.r`);
      });
      assert.deepStrictEqual(e.y, await model.predictOne(x), `${engine.name}: explain y = predictOne`);
      assertClose(e.y, hand.y, 1e-12, `${engine.name} y`);
    }
  });
}

test('a net without BN explains with an empty trace', async () => {
  const doc = makeCheckpoint({ inputDim: 4, hidden: [3], task: 'binary', batchNorm: { enabled: false } });
  const x = [1, 2, 3, 4];
  for (const engine of engines) {
    const e = await (await engine.load(fromDocument(doc))).explain(x);
    assert.deepEqual(e.batchNorm, []);
    assertClose(e.y, handForward(doc, x).y, 1e-12, engine.name);
  }
});

test('loading, predicting and explaining change no statistic and no parameter', async () => {
  for (const placement of ['before-activation', 'after-activation'] as const) {
    const doc = makeCheckpoint({ inputDim: 4, hidden: [8, 8], task: 'binary', batchNorm: { placement }, seed: 9 });
    const before = structuredClone(doc);
    deepFreeze(doc); // any write, even a transient one, would throw in strict mode
    const rows = randomRows(100, 4, 13);
    for (const engine of engines) {
      const model = await engine.load(fromDocument(doc));
      const first = await model.predict(rows);
      for (const row of rows.slice(0, 20)) {
        await model.predictOne(row);
        await model.explain(row);
      }
      assert.deepStrictEqual(await model.predict(rows), first, `${engine.name}: predictions drift`);
    }
    assert.deepStrictEqual(doc, before);
  }
});

test('softmax and sigmoid stay finite for huge logits', async () => {
  const doc = paperCheckpoint();
  doc.layers[3] = { type: 'dense', name: 'dense_out', kernel: [[1e4, -1e4], [0, 0]], bias: [0, 0] };
  doc.layers[4] = { type: 'activation', name: 'softmax_out', fn: 'softmax' };
  doc.spec.outputDim = 2;
  for (const engine of engines) {
    const y = await (await engine.load(fromDocument(doc))).predictOne([1, 2]); // logits [12500, -12500]
    assert.deepEqual(y, [1, 0]);
  }
  doc.layers[3] = { type: 'dense', name: 'dense_out', kernel: [[-1e4], [0]], bias: [0] };
  doc.layers[4] = { type: 'activation', name: 'sigmoid_out', fn: 'sigmoid' };
  doc.spec.outputDim = 1;
  for (const engine of engines) {
    const [y] = await (await engine.load(fromDocument(doc))).predictOne([1, 2]); // logit -12500
    assert.ok(Number.isFinite(y) && y >= 0 && y < 1e-300, String(y));
  }
});

test('the inference modules reach no @tensorflow package, directly or through their imports', async () => {
  const { readFile } = await import('node:fs/promises');
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = async (url: URL): Promise<void> => {
    if (seen.has(url.href)) return;
    seen.add(url.href);
    const source = await readFile(url, 'utf8');
    for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      if (spec.startsWith('.')) await visit(new URL(spec, url));
      else bare.add(spec);
    }
  };
  await visit(new URL('../src/inference/index.js', import.meta.url));
  assert.ok(seen.size >= 8, `followed ${seen.size} modules`);
  assert.deepEqual([...bare].filter((s) => s.includes('tensorflow')), []);
});
