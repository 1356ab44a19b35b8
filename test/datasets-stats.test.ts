import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeStats } from '../src/datasets/stats.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('mean, population std, min and max by hand', () => {
  const s = computeStats([
    [1, 10, -3],
    [2, 20, -3],
    [3, 30, -3],
    [4, 40, -3],
  ]);
  assert.deepEqual(s.mean, [2.5, 25, -3]);
  close(s.std[0], Math.sqrt(1.25)); // ((1.5² + 0.5²) * 2) / 4
  close(s.std[1], 10 * Math.sqrt(1.25));
  assert.deepEqual(s.min, [1, 10, -3]);
  assert.deepEqual(s.max, [4, 40, -3]);
});

test('a constant column has exactly zero spread and its own value as mean', () => {
  const s = computeStats([[0.1], [0.1], [0.1]]);
  assert.equal(s.std[0], 0);
  assert.equal(s.mean[0], 0.1);
});

test('large offsets keep the variance (two-pass, not sum of squares)', () => {
  const s = computeStats([[1e9 + 1], [1e9 + 2], [1e9 + 3]]);
  assert.equal(s.mean[0], 1e9 + 2);
  close(s.std[0], Math.sqrt(2 / 3), 1e-9);
  const t = computeStats([[1e15 + 0.5], [1e15 - 0.5]]);
  close(t.std[0], 0.5, 1e-9);
});

test('a single row and an empty table', () => {
  assert.deepEqual(computeStats([[5, -2]]), { mean: [5, -2], std: [0, 0], min: [5, -2], max: [5, -2] });
  assert.deepEqual(computeStats([]), { mean: [], std: [], min: [], max: [] });
});
