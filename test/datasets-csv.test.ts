import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatasetError } from '../src/datasets/errors.js';
import { decodeBytes, rowsOf } from './helpers/decode.js';

const limits = { maxRows: 5, maxFeatures: 3 };

async function parse(text: string, labelColumn: string | undefined, chunkSize = 65536, lim = limits) {
  const d = await decodeBytes(text, { format: 'csv', labelColumn, limits: lim }, chunkSize);
  return { features: rowsOf(d), labels: d.labels, featureNames: d.meta.columns, d };
}

async function fails(text: string, field: string | RegExp, message: RegExp, label = 'y', lim = limits) {
  await assert.rejects(parse(text, label, 65536, lim), (err: unknown) => {
    assert.ok(err instanceof DatasetError, String(err));
    if (typeof field === 'string') assert.equal(err.field, field);
    else assert.match(err.field, field);
    assert.match(err.message, message);
    return true;
  });
}

test('happy path: label column anywhere, whitespace, CRLF, BOM, quotes, blank lines, exponents', async () => {
  const text = '\ufeffgpa , y, iq\r\n 7.5, 1 ,70\r\n\r\n"8",0,8e1\r\n-6.25,1,+.5\r\n';
  for (const chunkSize of [65536, 7, 1]) {
    const { features, labels, featureNames } = await parse(text, ' y ', chunkSize);
    assert.deepEqual(featureNames, ['gpa', 'iq']);
    assert.deepEqual(features, [[7.5, 70], [8, 80], [-6.25, 0.5]]);
    assert.deepEqual(labels, [1, 0, 1]);
  }
});

test('tab-separated tables (like the lecture notes) are detected', async () => {
  const { features, labels, featureNames } = await parse('Gpa\tiq\tplaced\n7\t70\t1\n8\t80\t0\n9\t90\t1\n6\t60\t0\n', 'placed');
  assert.deepEqual(featureNames, ['Gpa', 'iq']);
  assert.deepEqual(features, [[7, 70], [8, 80], [9, 90], [6, 60]]);
  assert.deepEqual(labels, [1, 0, 1, 0]);
});

test('a first line of numbers is data, not a header (np.savetxt), unless it names the label column', async () => {
  const plain = await parse('1,2\n3,4\n', undefined);
  assert.equal(plain.featureNames, undefined);
  assert.deepEqual(plain.features, [[1, 2], [3, 4]]);
  assert.equal(plain.d.meta.hasLabels, false);
  // pandas writes integer column names: "0,1,2"; ?label=2 names one of them
  const pandas = await parse('0,1,2\n5,6,1\n7,8,0\n', '2');
  assert.deepEqual(pandas.featureNames, ['0', '1']);
  assert.deepEqual(pandas.features, [[5, 6], [7, 8]]);
  assert.deepEqual(pandas.labels, [1, 0]);
  await fails('1,2\n3,4\n', 'labelColumn', /first line holds numbers, not column names/);
  // a one-column labels file, with or without a header
  assert.deepEqual((await parse('label\n0\n1\n', undefined)).features, [[0], [1]]);
  assert.deepEqual((await parse('0\n1\n1\n', undefined)).features, [[0], [1], [1]]);
});

test('empty files and files without data', async () => {
  await fails('', 'csv', /empty/);
  await fails('  \n\r\n ', 'csv', /empty/);
  await fails('a,y\n', 'csv', /no data rows/);
  await fails('y\n1\n', 'csv', /no feature columns/);
});

test('a missing label column is named, with the columns listed', async () => {
  await fails('a,b\n1,2\n', 'labelColumn', /no column named "label"; the columns are "a", "b"/, 'label');
  await fails('a,Y\n1,2\n', 'labelColumn', /"y"/); // exact match only
});

test('bad header', async () => {
  await fails('a,a,y\n1,2,3\n', 'line 1', /duplicate column "a"/);
  await fails('a,,y\n1,2,3\n', 'line 1', /column 2 of the header has no name/);
});

test('every cell must be a finite decimal number; errors name line and column', async () => {
  await fails('a,y\n1,0\nabc,1\n', 'line 3, column "a"', /"abc" is not a finite number/);
  await fails('a,y\n1,0\n\n2,\n', 'line 4, column "y"', /"" is not a finite number/);
  await fails('a,y\nInfinity,0\n', 'line 2, column "a"', /not a finite number/);
  await fails('a,y\nNaN,0\n', 'line 2, column "a"', /not a finite number/);
  await fails('a,y\n0x10,0\n', 'line 2, column "a"', /not a finite number/);
  await fails('a,y\n1 2,0\n', 'line 2, column "a"', /not a finite number/);
  await fails('a,y\n1e31,0\n', 'line 2, column "a"', /magnitude/);
  await fails('a,y\n1e400,0\n', 'line 2, column "a"', /not a finite number/);
  await assert.rejects(parse('1,2\n3,x\n', undefined), { field: 'line 2', message: /"x" is not a finite number/ });
});

test('ragged rows and malformed CSV', async () => {
  await fails('a,b,y\n1,2,3\n1,2\n', 'line 3', /expected 3 values, got 2/);
  await fails('a,b,y\n1,2,3,4\n', 'line 2', /expected 3 values, got 4/);
  await fails('a,y\n1,"2\n', 'csv', /Quote Not Closed/i);
});

test('row and feature limits', async () => {
  await fails('a,y\n1,0\n2,0\n3,0\n4,0\n5,0\n6,0\n', 'csv', /more than 5 data rows/);
  assert.equal((await parse('a,y\n1,0\n2,0\n3,0\n4,0\n5,0\n', 'y')).features.length, 5);
  await fails('a,b,c,d,y\n1,2,3,4,0\n', 'csv', /4 feature columns exceed the limit of 3/);
});

test('rows arrive in blocks: a long file streams through in order', async () => {
  const n = 20_000;
  const text = 'a,b,y\n' + Array.from({ length: n }, (_, i) => `${i},${-i / 4},${i % 2}`).join('\n');
  const { features, labels } = await parse(text, 'y', 4096, { maxRows: n, maxFeatures: 3 });
  assert.equal(features.length, n);
  assert.deepEqual(features[n - 1], [n - 1, -(n - 1) / 4]);
  assert.equal(labels.reduce((a, b) => a + b, 0), n / 2);
});
