import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsvDataset } from '../src/datasets/csv.js';
import { DatasetError } from '../src/datasets/errors.js';

const limits = { maxRows: 5, maxFeatures: 3 };

function fails(text: string, field: string | RegExp, message: RegExp, label = 'y', lim = limits) {
  assert.throws(
    () => parseCsvDataset(text, label, lim),
    (err: unknown) => {
      assert.ok(err instanceof DatasetError, String(err));
      if (typeof field === 'string') assert.equal(err.field, field);
      else assert.match(err.field, field);
      assert.match(err.message, message);
      return true;
    },
  );
}

test('happy path: label column anywhere, whitespace, CRLF, BOM, quotes, blank lines, exponents', () => {
  const text = '\ufeffgpa , y, iq\r\n 7.5, 1 ,70\r\n\r\n"8",0,8e1\r\n-6.25,1,+.5\r\n';
  const { data, featureNames } = parseCsvDataset(text, ' y ', limits);
  assert.deepEqual(featureNames, ['gpa', 'iq']);
  assert.deepEqual(data.features, [[7.5, 70], [8, 80], [-6.25, 0.5]]);
  assert.deepEqual(data.labels, [1, 0, 1]);
});

test('tab-separated tables (like the lecture notes) are detected', () => {
  const { data, featureNames } = parseCsvDataset('Gpa\tiq\tplaced\n7\t70\t1\n8\t80\t0\n9\t90\t1\n6\t60\t0\n', 'placed', limits);
  assert.deepEqual(featureNames, ['Gpa', 'iq']);
  assert.deepEqual(data.features, [[7, 70], [8, 80], [9, 90], [6, 60]]);
  assert.deepEqual(data.labels, [1, 0, 1, 0]);
});

test('empty files and files without data', () => {
  fails('', 'csv', /empty/);
  fails('  \n\r\n ', 'csv', /empty/);
  fails('a,y\n', 'csv', /no data rows/);
  fails('y\n1\n', 'csv', /no feature columns/);
});

test('a missing label column is named, with the columns listed', () => {
  fails('a,b\n1,2\n', 'labelColumn', /no column named "label"; the columns are "a", "b"/, 'label');
  fails('a,Y\n1,2\n', 'labelColumn', /"y"/); // exact match only
});

test('bad header', () => {
  fails('a,a,y\n1,2,3\n', 'line 1', /duplicate column "a"/);
  fails('a,,y\n1,2,3\n', 'line 1', /column 2 of the header has no name/);
});

test('every cell must be a finite decimal number; errors name line and column', () => {
  fails('a,y\n1,0\nabc,1\n', 'line 3, column "a"', /"abc" is not a finite number/);
  fails('a,y\n1,0\n\n2,\n', 'line 4, column "y"', /"" is not a finite number/);
  fails('a,y\nInfinity,0\n', 'line 2, column "a"', /not a finite number/);
  fails('a,y\nNaN,0\n', 'line 2, column "a"', /not a finite number/);
  fails('a,y\n0x10,0\n', 'line 2, column "a"', /not a finite number/);
  fails('a,y\n1 2,0\n', 'line 2, column "a"', /not a finite number/);
  fails('a,y\n1e31,0\n', 'line 2, column "a"', /magnitude/);
  fails('a,y\n1e400,0\n', 'line 2, column "a"', /not a finite number/);
});

test('ragged rows and malformed CSV', () => {
  fails('a,b,y\n1,2,3\n1,2\n', 'line 3', /expected 3 values, got 2/);
  fails('a,b,y\n1,2,3,4\n', 'line 2', /expected 3 values, got 4/);
  fails('a,y\n1,"2\n', 'csv', /Quote Not Closed/i);
});

test('row and feature limits', () => {
  fails('a,y\n1,0\n2,0\n3,0\n4,0\n5,0\n6,0\n', 'csv', /more than 5 data rows/);
  assert.equal(parseCsvDataset('a,y\n1,0\n2,0\n3,0\n4,0\n5,0\n', 'y', limits).data.features.length, 5);
  fails('a,b,c,d,y\n1,2,3,4,0\n', 'csv', /4 feature columns exceed the limit of 3/);
});
