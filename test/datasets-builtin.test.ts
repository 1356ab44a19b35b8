import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { builtinDataset, listBuiltinIds } from '../src/datasets/builtin.js';
import { computeStats } from '../src/datasets/stats.js';

const hash = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('listBuiltinIds and unknown ids', () => {
  assert.deepEqual(listBuiltinIds().sort(), ['builtin:blobs', 'builtin:placement']);
  assert.equal(builtinDataset('builtin:nope'), null);
  assert.equal(builtinDataset('builtin:toString'), null);
  assert.equal(builtinDataset('blobs'), null);
});

test('built-in datasets are identical on every call and in another process', () => {
  for (const id of listBuiltinIds()) {
    const a = builtinDataset(id)!;
    a.data.features[0][0] = 12345; // callers get copies: mutation cannot leak into the cache
    a.data.labels.reverse();
    a.info.stats.mean[0] = 99;
    const b = builtinDataset(id)!;
    const c = builtinDataset(id)!;
    assert.deepEqual(b, c);
    assert.notEqual(b.data.features[0][0], 12345);
    assert.notEqual(b.info.stats.mean[0], 99);
    const module = new URL('../src/datasets/builtin.js', import.meta.url).href;
    const script = `import(${JSON.stringify(module)}).then((m) => process.stdout.write(JSON.stringify(m.builtinDataset(${JSON.stringify(id)}))))`;
    const fresh: unknown = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    assert.equal(hash(fresh), hash(b), id);
  }
});

test('builtin:blobs: 1000 shuffled points, 2 features, 500 per class around (0,0) and (0.5,0.1), std 0.25', () => {
  const { info, data } = builtinDataset('builtin:blobs')!;
  assert.equal(data.features.length, 1000);
  assert.ok(data.features.every((r) => r.length === 2 && r.every(Number.isFinite)));
  assert.equal(data.labels.filter((y) => y === 0).length, 500);
  assert.equal(data.labels.filter((y) => y === 1).length, 500);
  // Shuffled: both classes appear in the first hundred rows.
  const head = data.labels.slice(0, 100);
  assert.ok(head.includes(0) && head.includes(1));
  for (const [label, centre] of [[0, [0, 0]], [1, [0.5, 0.1]]] as const) {
    const rows = data.features.filter((_, i) => data.labels[i] === label);
    for (const j of [0, 1]) {
      const col = rows.map((r) => r[j]);
      const m = mean(col);
      const sd = Math.sqrt(mean(col.map((v) => (v - m) ** 2)));
      assert.ok(Math.abs(m - centre[j]) < 0.05, `class ${label} feature ${j} mean ${m}`);
      assert.ok(Math.abs(sd - 0.25) < 0.03, `class ${label} feature ${j} std ${sd}`);
    }
  }
  assert.deepEqual(info, {
    id: 'builtin:blobs',
    name: info.name,
    rows: 1000,
    features: 2,
    featureNames: ['x1', 'x2'],
    classes: 2,
    stats: computeStats(data.features),
    createdAt: info.createdAt,
  });
});

test('builtin:placement: gpa 5-10 and iq 60-140, both predictive of placed', () => {
  const { info, data } = builtinDataset('builtin:placement')!;
  assert.equal(data.features.length, 400);
  assert.deepEqual(info.featureNames, ['gpa', 'iq']);
  assert.equal(info.classes, 2);
  assert.deepEqual(info.stats, computeStats(data.features));
  for (const [gpa, iq] of data.features) {
    assert.ok(gpa >= 5 && gpa <= 10, `gpa ${gpa}`);
    assert.ok(iq >= 60 && iq <= 140 && Number.isInteger(iq), `iq ${iq}`);
  }
  const placed = data.labels.filter((y) => y === 1).length;
  assert.ok(placed > 100 && placed < 300, `placed ${placed}`);
  for (const j of [0, 1]) {
    const yes = mean(data.features.filter((_, i) => data.labels[i] === 1).map((r) => r[j]));
    const no = mean(data.features.filter((_, i) => data.labels[i] === 0).map((r) => r[j]));
    assert.ok(yes > no, `feature ${j}: ${yes} <= ${no}`);
  }
});
