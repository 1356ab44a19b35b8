// The experiment's merge rules and the bn-comparisons template, as pure functions: the settings every
// variant resolves to, before anything is submitted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeSettings, scaledDatasetId } from '../src/experiments/merge.js';
import { resolveVariants } from '../src/experiments/create.js';
import { IssueList } from '../src/util/field-error.js';

test('merge: top-level fields replaced, model.batchNorm and model.weightInit merged field by field, one seed', () => {
  const base = {
    model: { hidden: [8, 4], task: 'binary' as const, batchNorm: { momentum: 0.9, epsilon: 1e-5 }, weightInit: { method: 'uniform' as const, min: -1, max: 1 } },
    training: { epochs: 5, learningRate: 0.1, batchSize: 16 },
  };
  const merged = mergeSettings(base, { model: { hidden: [3], batchNorm: { enabled: false }, weightInit: { max: 2 } }, training: { learningRate: 0.5 } });
  assert.deepEqual(merged.model, {
    hidden: [3],
    task: 'binary',
    batchNorm: { momentum: 0.9, epsilon: 1e-5, enabled: false },
    weightInit: { method: 'uniform', min: -1, max: 2 },
  });
  assert.deepEqual(merged.training, { epochs: 5, learningRate: 0.5, batchSize: 16 });

  const issues = new IssueList();
  const variants = resolveVariants(
    { datasetId: 'builtin:mnist', base, variants: [{ name: 'a' }, { name: 'b', dataset: { scale: 'raw' } }] },
    42,
    issues,
  );
  assert.ok(issues.empty);
  assert.deepEqual(variants.map((v) => [v.name, v.datasetId, v.training.seed]), [['a', 'builtin:mnist', 42], ['b', 'builtin:mnist?scale=raw', 42]]);
});

test('merge: duplicate names, a variant seed and a scale on a dataset without one are named by field', () => {
  const issues = new IssueList();
  resolveVariants(
    {
      datasetId: 'builtin:blobs',
      base: { model: { hidden: [2], task: 'binary' } },
      variants: [{ name: 'x' }, { name: 'y', training: { seed: 3 } }, { name: 'x', dataset: { scale: 'raw' } }],
    },
    1,
    issues,
  );
  assert.deepEqual(issues.issues.map((i) => i.field), ['variants[1].training.seed', 'variants[2].name', 'variants[2].dataset.scale']);
  assert.match(issues.issues[1].message, /also the name of variants\[0\]/);
  assert.equal(scaledDatasetId('builtin:mnist?scale=raw', 'unit'), 'builtin:mnist');
  assert.equal(scaledDatasetId('ds_abc', undefined), 'ds_abc');
  assert.equal(scaledDatasetId('ds_abc', 'raw'), undefined);
});

test('the bn-comparisons template: eight variants with the settings of the four comparisons, overrides merged into each', () => {
  const issues = new IssueList();
  const variants = resolveVariants(
    { template: 'bn-comparisons', datasetId: 'builtin:mnist', base: { model: { hidden: [32, 16] }, training: { epochs: 3 } } },
    7,
    issues,
  );
  assert.ok(issues.empty, JSON.stringify(issues.issues));
  const summary = variants.map((v) => ({
    name: v.name,
    comparison: v.comparison,
    datasetId: v.datasetId,
    bn: v.model.batchNorm?.enabled,
    placement: v.model.batchNorm?.placement,
    init: v.model.weightInit,
    lr: v.training.learningRate,
    batch: v.training.batchSize,
  }));
  const glorot = { method: 'glorot-uniform' };
  const big = { method: 'uniform', min: -5, max: 5 };
  const expected = [
    ['convergence', 'builtin:mnist', glorot, 0.01, 128],
    ['big learning rate', 'builtin:mnist', glorot, 1, 1024],
    ['big weights', 'builtin:mnist', big, 0.01, 128],
    ['raw pixels', 'builtin:mnist?scale=raw', glorot, 0.01, 128],
  ].flatMap(([comparison, datasetId, init, lr, batch]) =>
    [false, true].map((bn) => ({
      name: `${comparison} (${bn ? 'BN' : 'no BN'})`,
      comparison,
      datasetId,
      bn,
      placement: 'before-activation',
      init,
      lr,
      batch,
    })),
  );
  assert.deepEqual(summary, expected);
  for (const v of variants) {
    assert.deepEqual(v.model.hidden, [32, 16], 'the override replaces the hidden layers');
    assert.equal(v.model.activation, 'relu');
    assert.equal(v.model.task, 'multiclass');
    assert.deepEqual(
      { epochs: v.training.epochs, validationSplit: v.training.validationSplit, optimizer: v.training.optimizer, seed: v.training.seed },
      { epochs: 3, validationSplit: 0.2, optimizer: 'sgd', seed: 7 },
    );
  }
  // Without overrides: the paper's network and 10 epochs.
  const plain = resolveVariants({ template: 'bn-comparisons', datasetId: 'builtin:mnist' }, 7, new IssueList());
  assert.deepEqual(plain[0].model.hidden, [256, 128, 64]);
  assert.equal(plain[0].training.epochs, 10);
});
