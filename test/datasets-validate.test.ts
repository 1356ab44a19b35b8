import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatasetError } from '../src/datasets/errors.js';
import { validateDatasetRows } from '../src/datasets/validate.js';

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

test('valid rows come back as DatasetData', () => {
  const data = validateDatasetRows([[1, 2], [3, 4]], [0, 1], limits, ['a', 'b']);
  assert.deepEqual(data, { features: [[1, 2], [3, 4]], labels: [0, 1] });
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
