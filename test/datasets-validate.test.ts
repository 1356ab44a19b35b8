import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatasetError } from '../src/datasets/errors.js';
import { checkDatasetForModel, checkLabelsForTask, checkRow, validateDatasetRows } from '../src/datasets/validate.js';

const limits = { maxRows: 100, maxFeatures: 3 };

function fails(field: string, run: () => unknown, message?: RegExp) {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof DatasetError, String(err));
    assert.equal(err.field, field);
    assert.ok(err.message.startsWith(`${field}: `), err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('valid rows come back once converted: a float32 part', () => {
  const part = validateDatasetRows([[1, 2], [3, 0.1]], [0, 1], limits, ['a', 'b']);
  assert.deepEqual(part, { rows: 2, features: 2, x: Float32Array.from([1, 2, 3, 0.1]), scale: 1, y: Float32Array.from([0, 1]) });
});

test("one row (a prediction's input) is checked by the same rules, with the caller's wording for its length", () => {
  assert.doesNotThrow(() => checkRow([0.5, -1e30], 2, 'x'));
  fails('x', () => checkRow([0.5], 2, 'x', (n) => `has ${n} values; the model expects inputDim=2 features`), /^x: has 1 values; the model expects inputDim=2 features$/);
  fails('x[1]', () => checkRow([0.5, Infinity], 2, 'x'), /finite/);
  fails('instances[3][0]', () => checkRow([1e31, 1], 2, 'instances[3]'), /magnitude/);
  fails('x', () => checkRow('1,2', 2, 'x'), /array of numbers/);
});

test('labels against a task, and a dataset against a model by its info alone', () => {
  assert.doesNotThrow(() => checkLabelsForTask([0, 1, 1], 'binary', 1, 'labels'));
  fails('labels[1]', () => checkLabelsForTask([0, 2], 'binary', 1, 'labels'), /must be 0 or 1 for a binary task \(got 2\)/);
  fails('test.labels[7]', () => checkLabelsForTask([3], 'multiclass', 3, 'test.labels', 7), /integer class in \[0, 3\)/);
  assert.doesNotThrow(() => checkLabelsForTask([-4.5], 'regression', 1, 'labels'));
  const info = { id: 'ds_x', features: 4, classes: 3 };
  assert.doesNotThrow(() => checkDatasetForModel(info, { inputDim: 4, outputDim: 3, task: 'multiclass' }, 'datasetId'));
  assert.doesNotThrow(() => checkDatasetForModel({ ...info, classes: undefined }, { inputDim: 4, outputDim: 1, task: 'regression' }, 'datasetId'));
  fails('datasetId', () => checkDatasetForModel(info, { inputDim: 5, outputDim: 3, task: 'multiclass' }, 'datasetId'), /ds_x has 4 features per row; the model takes inputDim=5/);
  fails('datasetId', () => checkDatasetForModel(info, { inputDim: 4, outputDim: 1, task: 'binary' }, 'datasetId'), /labels of ds_x are 0 to 2; a binary task takes labels 0 and 1/);
  fails('datasetId', () => checkDatasetForModel(info, { inputDim: 4, outputDim: 2, task: 'multiclass' }, 'datasetId'), /go up to 2; the model has outputDim=2/);
  fails('datasetId', () => checkDatasetForModel({ ...info, classes: undefined }, { inputDim: 4, outputDim: 2, task: 'multiclass' }, 'datasetId'), /not all integers >= 0/);
});

test('every problem names its field', () => {
  fails('features', () => validateDatasetRows([], [], limits), /at least one row/);
  fails('features', () => validateDatasetRows('x', [1], limits));
  fails('labels', () => validateDatasetRows([[1]], [], limits), /expected 1 labels \(one per row\), got 0/);
  fails('labels', () => validateDatasetRows([[1]], null, limits));
  fails('features[0]', () => validateDatasetRows([[]], [1], limits), /at least one value/);
  fails('features[0]', () => validateDatasetRows([5], [1], limits));
  const rows = Array.from({ length: 13 }, () => [1, 2, 3]);
  rows[12] = [1, 2];
  fails('features[12]', () => validateDatasetRows(rows, rows.map(() => 0), limits), /^features\[12\]: expected 3 values, got 2$/);
  fails('features[1]', () => validateDatasetRows([[1], 'x'], [0, 1], limits));
  fails('features[1][0]', () => validateDatasetRows([[1], [NaN]], [0, 1], limits), /finite/);
  fails('features[0][1]', () => validateDatasetRows([[1, Infinity]], [0], limits), /finite/);
  fails('features[0][0]', () => validateDatasetRows([[-Infinity]], [0], limits), /finite/);
  fails('features[0][0]', () => validateDatasetRows([['1']], [0], limits), /finite number, got "1"/);
  fails('features[0][0]', () => validateDatasetRows([[null]], [0], limits), /null/);
  fails('features[0][0]', () => validateDatasetRows([[1e31]], [0], limits), /magnitude/);
  fails('labels[1]', () => validateDatasetRows([[1], [2]], [0, NaN], limits), /finite/);
  fails('labels[0]', () => validateDatasetRows([[1]], [-2e30], limits), /magnitude/);
});

test('limits on rows and features', () => {
  fails('features', () => validateDatasetRows(Array.from({ length: 101 }, () => [1]), new Array(101).fill(0), limits), /101 rows exceed the limit of 100/);
  fails('features[0]', () => validateDatasetRows([[1, 2, 3, 4]], [0], limits), /4 features exceed the limit of 3/);
  assert.doesNotThrow(() => validateDatasetRows([[1e30, -1e30, 0]], [1e30], limits));
});

test('feature names must match the columns', () => {
  fails('featureNames', () => validateDatasetRows([[1, 2]], [0], limits, ['a']), /expected 2 names \(one per feature\), got 1/);
  fails('featureNames', () => validateDatasetRows([[1, 2]], [0], limits, 'ab'));
  fails('featureNames[1]', () => validateDatasetRows([[1, 2]], [0], limits, ['a', '']));
  fails('featureNames[1]', () => validateDatasetRows([[1, 2]], [0], limits, ['a', 'a']), /duplicate/);
});
