// The binary file formats, on files numpy wrote (test/fixtures/npy) and IDX files built by hand as the
// MNIST page describes them: good files in every supported layout, fed in chunks of every awkward size,
// and broken ones, whose errors must say where and what.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DatasetError } from '../src/datasets/errors.js';
import { decodeBytes, rowsOf } from './helpers/decode.js';

const fixture = (name: string) => new Uint8Array(fs.readFileSync(new URL(`../../test/fixtures/npy/${name}`, import.meta.url)));
/** np.arange(12).reshape(4, 3) / 8 - 0.5 */
const X = Array.from({ length: 4 }, (_, i) => Array.from({ length: 3 }, (_, j) => (i * 3 + j) / 8 - 0.5));

async function rejectsAt(bytes: Uint8Array | string, field: string | RegExp, message: RegExp, options = {}) {
  await assert.rejects(decodeBytes(bytes, options), (err: unknown) => {
    assert.ok(err instanceof DatasetError, String(err));
    if (typeof field === 'string') assert.equal(err.field, field);
    else assert.match(err.field, field);
    assert.match(err.detail, message);
    return true;
  });
}

test('NPY: float64, float32, big-endian, format 2.0, Fortran order and gzip all read as the same rows', async () => {
  for (const name of ['f8.npy', 'f4.npy', 'f4-big-endian.npy', 'f4-v2.npy', 'f4-fortran.npy', 'f4.npy.gz']) {
    for (const chunk of [65536, 7, 1]) {
      const d = await decodeBytes(fixture(name), { filename: name }, chunk);
      assert.equal(d.format, 'npy', name);
      assert.equal(d.gzip, name.endsWith('.gz'), name);
      assert.deepEqual({ rows: d.meta.rows, width: d.meta.width, type: d.meta.type }, { rows: 4, width: 3, type: 'float' }, name);
      assert.deepEqual(rowsOf(d), X, `${name} in chunks of ${chunk}`);
    }
  }
});

test('NPY: uint8 images stay bytes, flattened row-major (C order) whatever the file order', async () => {
  const want = Array.from({ length: 4 }, (_, i) => Array.from({ length: 6 }, (_, j) => (i * 6 + j) * 10));
  for (const name of ['u1-images.npy', 'u1-images-fortran.npy']) {
    for (const chunk of [65536, 5, 1]) {
      const d = await decodeBytes(fixture(name), {}, chunk);
      assert.equal(d.meta.type, 'uint8', name);
      assert.ok(d.uint8, name);
      assert.deepEqual(d.meta.shape, [4, 2, 3]);
      assert.deepEqual(rowsOf(d), want, `${name} in chunks of ${chunk}`);
    }
  }
});

test('NPY: integer and boolean labels, as (n,) or (n, 1)', async () => {
  assert.deepEqual((await decodeBytes(fixture('i8-labels.npy'))).values, [0, 2, 1, 2]);
  const column = await decodeBytes(fixture('i4-labels-column.npy'));
  assert.equal(column.meta.width, 1);
  assert.deepEqual(column.values, [0, 2, 1, 2]);
  assert.deepEqual((await decodeBytes(fixture('bool.npy'))).values, [1, 0, 1, 1]);
});

test('NPY: dtypes and shapes that are no dataset are refused by name', async () => {
  await rejectsAt(fixture('structured.npy'), 'header', /structured/);
  await rejectsAt(fixture('complex.npy'), 'header', /dtype "<c8" is not supported/);
  await rejectsAt(fixture('scalar.npy'), 'header', /scalar/);
  await rejectsAt(fixture('f4.npy'), 'header', /4 rows .* exceed the limit of 3 \(MAX_ROWS\)/, { limits: { maxRows: 3, maxFeatures: 10 } });
  await rejectsAt(fixture('f4.npy'), 'header', /3 values per row .* exceed the limit of 2 features/, { limits: { maxRows: 10, maxFeatures: 2 } });
});

test('NPY: bad magic, truncated and overlong files, broken headers', async () => {
  const good = fixture('f4.npy');
  await rejectsAt(Buffer.from('a,b\n1,2\n'), 'byte 0', /not an NPY file: bad magic/, { filename: 'x.npy' });
  await rejectsAt(good.subarray(0, good.length - 5), `byte ${good.length - 5}`, /ends early \(truncated\).*48 bytes of data from byte 128, but only 43 follow/);
  await rejectsAt(Buffer.concat([good, Buffer.from([1, 2, 3, 4])]), 'byte 176', /more data than the declared shape \(4, 3\)/);
  await rejectsAt(good.subarray(0, 20), 'byte 20', /ends inside the header/);
  const header = Buffer.from(good);
  header.write("'shapf'", header.indexOf("'shape'"), 'latin1');
  await rejectsAt(header, 'header', /has no 'shape'/);
  const syntax = Buffer.from(good);
  syntax.write('{"descr"  ', syntax.indexOf('{'), 'latin1'); // quotes are fine...
  syntax.write('@', syntax.indexOf('}'), 'latin1'); // ...a stray character is not
  await rejectsAt(syntax, /^byte \d+$/, /not a valid dictionary literal/);
  const version = Buffer.from(good);
  version[6] = 9;
  await rejectsAt(version, 'byte 6', /version 9\.0 is unknown/);
});

test('gzip: a damaged stream is reported as such, with offsets of the gunzipped data', async () => {
  const gz = fixture('f4.npy.gz');
  await rejectsAt(gz.subarray(0, gz.length - 12), /of the gunzipped data$/, /gzip data is damaged|truncated/);
  const truncatedInside = gzipSync(fixture('f4.npy').subarray(0, 150));
  await rejectsAt(truncatedInside, 'byte 150 of the gunzipped data', /truncated/);
});

/** An IDX file: magic 00 00 <type> <dims>, dims big-endian, then the data big-endian. */
function idx(type: number, shape: number[], values: number[]): Uint8Array {
  const size = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[type]!;
  const buf = Buffer.alloc(4 + 4 * shape.length + values.length * size);
  buf[2] = type;
  buf[3] = shape.length;
  shape.forEach((d, a) => buf.writeUInt32BE(d, 4 + 4 * a));
  const at = 4 + 4 * shape.length;
  values.forEach((v, k) => {
    const o = at + k * size;
    if (type === 0x08) buf.writeUInt8(v, o);
    else if (type === 0x09) buf.writeInt8(v, o);
    else if (type === 0x0b) buf.writeInt16BE(v, o);
    else if (type === 0x0c) buf.writeInt32BE(v, o);
    else if (type === 0x0d) buf.writeFloatBE(v, o);
    else buf.writeDoubleBE(v, o);
  });
  return buf;
}

test('IDX: every type code, images flattened, labels one per row, gzip and chunks', async () => {
  const pixels = Array.from({ length: 3 * 2 * 2 }, (_, k) => k * 20);
  for (const chunk of [65536, 3, 1]) {
    const d = await decodeBytes(idx(0x08, [3, 2, 2], pixels), { filename: 'train-images-idx3-ubyte' }, chunk);
    assert.equal(d.format, 'idx');
    assert.equal(d.meta.type, 'uint8');
    assert.deepEqual(rowsOf(d), [pixels.slice(0, 4), pixels.slice(4, 8), pixels.slice(8)]);
  }
  const gz = await decodeBytes(gzipSync(idx(0x08, [4], [3, 1, 4, 1])), { filename: 'labels.gz' });
  assert.ok(gz.gzip);
  assert.deepEqual({ rows: gz.rows, width: gz.meta.width, values: gz.values }, { rows: 4, width: 1, values: [3, 1, 4, 1] });
  const signed = [-3, 2, -1, 0];
  for (const type of [0x09, 0x0b, 0x0c, 0x0d, 0x0e]) {
    const d = await decodeBytes(idx(type, [2, 2], signed), {}, 3);
    assert.equal(d.meta.type, 'float', `type ${type}`);
    assert.deepEqual(d.values, signed, `type ${type}`);
  }
  assert.deepEqual((await decodeBytes(idx(0x0d, [1, 2], [0.25, -1.5]))).values, [0.25, -1.5]);
});

test('IDX: bad magic, unknown type, truncated and overlong data', async () => {
  await rejectsAt(Buffer.from([0x01, 0x00, 0x08, 0x01, 0, 0, 0, 1, 7]), 'byte 0', /not an IDX file: bad magic/, { filename: 'a.idx' });
  await rejectsAt(Buffer.from([0x00, 0x00, 0x0a, 0x01, 0, 0, 0, 1, 7]), 'byte 2', /type code 0x0a is unknown/, { filename: 'a.idx' });
  const good = idx(0x08, [2, 3], [1, 2, 3, 4, 5, 6]);
  await rejectsAt(good.subarray(0, good.length - 2), 'byte 16', /truncated.*\(2, 3\) ubyte \(0x08\), 6 bytes of data from byte 12, but only 4 follow/);
  await rejectsAt(Buffer.concat([good, Buffer.from([9])]), 'byte 18', /more data than the declared shape/);
  await rejectsAt(good.subarray(0, 10), 'byte 10', /ends inside the header/);
  await rejectsAt(idx(0x08, [0, 3], []), 'header', /no rows/);
});

test('formats are recognised by name, or else by their magic numbers', async () => {
  assert.equal((await decodeBytes(fixture('f4.npy'), { filename: 'upload.bin' })).format, 'npy');
  assert.equal((await decodeBytes(idx(0x08, [1, 1], [5]), { filename: 'blob' })).format, 'idx');
  assert.equal((await decodeBytes('a,b\n1,2\n', { filename: 'data' })).format, 'csv');
  assert.equal((await decodeBytes(gzipSync(Buffer.from('a,b\n1,2\n')), { filename: 'data.csv.gz' })).format, 'csv');
});
