import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { featureRows } from '../src/datasets/arrays.js';
import { builtinData, builtinDataset, builtinInfo, builtinPart, configureBuiltins, listBuiltinIds, missingBuiltinMessage } from '../src/datasets/builtin.js';
import { FASHION_MNIST_DIR } from '../src/datasets/fashion-mnist.js';
import { computeStats, partStats } from '../src/datasets/stats.js';
import type { DatasetData } from '../src/schemas/dataset.js';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const digest = (info: unknown, data: DatasetData) => {
  const h = createHash('sha256').update(JSON.stringify(info));
  for (const p of [data.train, data.test]) if (p) h.update(p.x).update(new Uint8Array(p.y.buffer)).update(String(p.scale));
  return h.digest('hex');
};

test('listBuiltinIds, unknown ids and options that do not apply', async () => {
  assert.deepEqual(listBuiltinIds().sort(), ['builtin:blobs', 'builtin:fashion-mnist', 'builtin:mnist', 'builtin:placement']);
  for (const id of ['builtin:nope', 'builtin:toString', 'blobs', 'builtin:blobs?scale=raw', 'builtin:mnist?scale=big', 'builtin:mnist?x=1']) {
    assert.equal(await builtinInfo(id), null, id);
    assert.equal(await builtinData(id), null, id);
  }
  assert.match(await missingBuiltinMessage('builtin:nope'), /no built-in dataset builtin:nope; the built-in datasets are builtin:blobs, builtin:placement, builtin:mnist \(\?scale=raw/);
});

test('built-in datasets are identical on every call and in another process; callers get copies', async () => {
  const ids = ['builtin:blobs', 'builtin:placement', 'builtin:mnist', 'builtin:mnist?scale=raw'];
  const here: string[] = [];
  for (const id of ids) {
    const a = (await builtinDataset(id))!;
    a.data.train.x[0] = 123; // callers get copies: mutation cannot leak into the cache
    a.data.train.y.reverse();
    a.info.stats.mean[0] = 99;
    const b = (await builtinDataset(id))!;
    const c = (await builtinDataset(id))!;
    assert.equal(digest(b.info, b.data), digest(c.info, c.data), id);
    assert.notEqual(b.data.train.x[0], 123);
    assert.notEqual(b.info.stats.mean[0], 99);
    here.push(digest(b.info, b.data));
  }
  const module = new URL('../src/datasets/builtin.js', import.meta.url).href;
  const script = `Promise.all([import(${JSON.stringify(module)}), import('node:crypto')]).then(async ([m, c]) => {
    const out = [];
    for (const id of ${JSON.stringify(ids)}) {
      const { info, data } = await m.builtinDataset(id);
      const h = c.createHash('sha256').update(JSON.stringify(info));
      for (const p of [data.train, data.test]) if (p) h.update(p.x).update(new Uint8Array(p.y.buffer)).update(String(p.scale));
      out.push(h.digest('hex'));
    }
    process.stdout.write(JSON.stringify(out));
  })`;
  assert.deepEqual(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })), here);
});

test('builtin:blobs: 1000 shuffled points, 2 features, 500 per class around (0,0) and (0.5,0.1), std 0.25', async () => {
  const { info, data } = (await builtinDataset('builtin:blobs'))!;
  const features = featureRows(data.train);
  const labels = Array.from(data.train.y);
  assert.equal(features.length, 1000);
  assert.ok(data.train.x instanceof Float32Array);
  assert.equal(labels.filter((y) => y === 0).length, 500);
  assert.equal(labels.filter((y) => y === 1).length, 500);
  // Shuffled: both classes appear in the first hundred rows.
  const head = labels.slice(0, 100);
  assert.ok(head.includes(0) && head.includes(1));
  for (const [label, centre] of [[0, [0, 0]], [1, [0.5, 0.1]]] as const) {
    const rows = features.filter((_, i) => labels[i] === label);
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
    stats: computeStats(features),
    storage: { features: 'float32', scale: 1 },
    source: 'generated (seeded)',
    createdAt: info.createdAt,
  });
});

test('builtin:placement: gpa 5-10 and iq 60-140, both predictive of placed', async () => {
  const { info, data } = (await builtinDataset('builtin:placement'))!;
  const features = featureRows(data.train);
  const labels = Array.from(data.train.y);
  assert.equal(features.length, 400);
  assert.deepEqual(info.featureNames, ['gpa', 'iq']);
  assert.equal(info.classes, 2);
  assert.deepEqual(info.stats, partStats(data.train));
  for (const [gpa, iq] of features) {
    assert.ok(gpa >= 5 - 1e-6 && gpa <= 10 + 1e-6, `gpa ${gpa}`);
    assert.ok(iq >= 60 && iq <= 140 && Number.isInteger(iq), `iq ${iq}`);
  }
  const placed = labels.filter((y) => y === 1).length;
  assert.ok(placed > 100 && placed < 300, `placed ${placed}`);
  for (const j of [0, 1]) {
    const yes = mean(features.filter((_, i) => labels[i] === 1).map((r) => r[j]));
    const no = mean(features.filter((_, i) => labels[i] === 0).map((r) => r[j]));
    assert.ok(yes > no, `feature ${j}: ${yes} <= ${no}`);
  }
});

test('builtin:mnist: the package\'s 10,000 digits, 8,000 train / 2,000 test, disjoint, pixels unit or raw', async () => {
  const unit = (await builtinDataset('builtin:mnist?scale=unit'))!;
  const raw = (await builtinDataset('builtin:mnist?scale=raw'))!;
  assert.equal(unit.info.id, 'builtin:mnist');
  assert.equal(raw.info.id, 'builtin:mnist?scale=raw');
  for (const { info, data } of [unit, raw]) {
    assert.deepEqual([info.rows, info.test?.rows, info.features, info.classes], [8000, 2000, 784, 10]);
    assert.equal(info.storage.features, 'uint8');
    assert.ok(data.train.x instanceof Uint8Array && data.test!.x instanceof Uint8Array);
  }
  assert.equal(unit.info.storage.scale, 1 / 255);
  assert.equal(raw.info.storage.scale, 1);
  assert.deepEqual(raw.data.train.x, unit.data.train.x, 'the same bytes, another scale');
  assert.equal(Math.max(...raw.info.stats.max), 255);
  assert.equal(Math.max(...unit.info.stats.max), 1);
  assert.ok(Math.abs(unit.info.stats.mean[400] * 255 - raw.info.stats.mean[400]) < 1e-9);

  // Every digit of the package exactly once, in train or test.
  const require = createRequire(import.meta.url);
  const key = (img: ArrayLike<number>) => createHash('sha1').update(Uint8Array.from(img)).digest('hex');
  const counts = new Map<string, number>();
  for (let d = 0; d <= 9; d++) {
    const { data } = JSON.parse(await fs.readFile(require.resolve(`mnist/src/digits/${d}.json`), 'utf8')) as { data: number[] };
    for (let at = 0; at < data.length; at += 784) {
      const k = `${d}:${key(data.slice(at, at + 784).map((v) => Math.round(v * 255)))}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  for (const part of [raw.data.train, raw.data.test!]) {
    for (let i = 0; i < part.rows; i++) {
      const k = `${part.y[i]}:${key(part.x.subarray(i * 784, (i + 1) * 784))}`;
      const left = counts.get(k);
      assert.ok(left, `row ${i} is a digit of the package, with its label`);
      counts.set(k, left - 1);
    }
  }
  assert.ok([...counts.values()].every((n) => n === 0));
  // Shuffled before the split: every class in both parts.
  for (const part of [raw.data.train, raw.data.test!]) {
    const perClass = new Array(10).fill(0);
    part.y.forEach((y) => perClass[y]++);
    assert.ok(perClass.every((n) => n > part.rows / 20), perClass.join(' '));
  }
  assert.deepEqual((await builtinPart('builtin:mnist', 'test'))!.x, unit.data.test!.x);
});

test('builtin:fashion-mnist: Debian\'s IDX files, 60,000 / 10,000; missing files give a message saying how to install them', async (t) => {
  const installed = await fs.access(path.join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz')).then(() => true, () => false);
  assert.ok(installed, `${FASHION_MNIST_DIR} is missing: apt-get install dataset-fashion-mnist (.ci/run installs it)`);
  const info = (await builtinInfo('builtin:fashion-mnist?scale=raw'))!;
  assert.deepEqual([info.rows, info.test?.rows, info.features, info.classes, info.storage.features], [60_000, 10_000, 784, 10, 'uint8']);
  const test10k = (await builtinPart('builtin:fashion-mnist', 'test'))!;
  // The first test images of the release: ankle boot, pullover, trouser, trouser, shirt.
  assert.deepEqual(Array.from(test10k.y.subarray(0, 5)), [9, 2, 1, 1, 6]);
  assert.equal(test10k.scale, 1 / 255);

  const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-nofashion-'));
  t.after(() => {
    configureBuiltins({ fashionMnistDir: FASHION_MNIST_DIR });
    return fs.rm(empty, { recursive: true, force: true });
  });
  configureBuiltins({ fashionMnistDir: empty });
  assert.equal(await builtinInfo('builtin:fashion-mnist'), null);
  assert.equal(await builtinData('builtin:fashion-mnist'), null);
  assert.match(await missingBuiltinMessage('builtin:fashion-mnist?scale=raw'), /apt-get install dataset-fashion-mnist/);
});
