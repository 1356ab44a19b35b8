// The body of an NPY or IDX file: `rows` x `width` elements of one numeric type, decoded as they stream
// in and handed on in blocks of whole rows. Row-major (C order) bodies stream straight through; a
// column-major (Fortran order) one is gathered first, as its first row is spread over the whole file.
import { DatasetError } from '../errors.js';
import type { ByteInput } from './byte-input.js';
import { blockRows, type RowConsumer, type ValueBlock } from './types.js';

export interface ElementType {
  /** As the file names it, for messages: '<f4', 'float32 (0x0D)' */
  name: string;
  bytes: number;
  /** Unsigned bytes (or booleans): kept as uint8 */
  uint8: boolean;
  read(view: DataView, offset: number): number;
}

export function elementType(name: string, kind: string, bytes: number, little: boolean): ElementType | undefined {
  const t = (read: ElementType['read'], uint8 = false): ElementType => ({ name, bytes, uint8, read });
  switch (`${kind}${bytes}`) {
    case 'b1':
    case 'u1':
      return t((v, o) => v.getUint8(o), true);
    case 'i1':
      return t((v, o) => v.getInt8(o));
    case 'u2':
      return t((v, o) => v.getUint16(o, little));
    case 'i2':
      return t((v, o) => v.getInt16(o, little));
    case 'u4':
      return t((v, o) => v.getUint32(o, little));
    case 'i4':
      return t((v, o) => v.getInt32(o, little));
    case 'u8':
      return t((v, o) => Number(v.getBigUint64(o, little)));
    case 'i8':
      return t((v, o) => Number(v.getBigInt64(o, little)));
    case 'f4':
      return t((v, o) => v.getFloat32(o, little));
    case 'f8':
      return t((v, o) => v.getFloat64(o, little));
    default:
      return undefined;
  }
}

export interface BodyLayout {
  type: ElementType;
  rows: number;
  width: number;
  /** Column-major: element k is row k % rows of column-major trailing index floor(k / rows). */
  fortran: boolean;
  /** Fortran order with more than 2 dimensions: column-major trailing index -> row-major one. */
  columnOrder?: Uint32Array;
  /** Offset of the body in the file. */
  start: number;
  /** Words the declared shape for messages ("(70000, 784)"). */
  shapeText: string;
}

const alloc = (uint8: boolean, n: number): ValueBlock => (uint8 ? new Uint8Array(n) : new Float64Array(n));

export async function decodeBody(input: ByteInput, layout: BodyLayout, consumer: RowConsumer): Promise<void> {
  const { type, rows, width, start } = layout;
  const total = rows * width;
  const eb = type.bytes;
  const expectedBytes = total * eb;
  let k = 0; // elements decoded
  const carry = new Uint8Array(eb);
  let carryLen = 0;
  const carryView = new DataView(carry.buffer);

  const trailing = (at: number) =>
    new DatasetError(`byte ${at}`, `more data than the declared shape ${layout.shapeText} holds (${expectedBytes} bytes from byte ${start}); the file is not what its header says`);

  // Row-major: blocks of whole rows go out as they fill. Column-major: one array of everything.
  const per = layout.fortran ? rows : blockRows(width);
  const full = layout.fortran ? (type.uint8 ? new Uint8Array(total) : new Float32Array(total)) : undefined;
  const block = layout.fortran ? undefined : alloc(type.uint8, per * width);
  let inBlock = 0;
  const flush = async () => {
    if (block && inBlock > 0) {
      await consumer.rows(inBlock === block.length ? block : block.subarray(0, inBlock), inBlock / width);
      inBlock = 0;
    }
  };
  /** Places one value; true when the block is full and must be flushed (kept synchronous: per element). */
  const put = (value: number): boolean => {
    k++;
    if (full) {
      const e = k - 1;
      const f = Math.floor(e / rows);
      full[(e % rows) * width + (layout.columnOrder ? layout.columnOrder[f] : f)] = value;
      return false;
    }
    block![inBlock++] = value;
    return inBlock === block!.length;
  };

  for await (const chunk of input.rest()) {
    let p = 0;
    if (carryLen > 0) {
      const n = Math.min(eb - carryLen, chunk.length);
      carry.set(chunk.subarray(0, n), carryLen);
      carryLen += n;
      p = n;
      if (carryLen < eb) continue;
      if (k >= total) throw trailing(start + k * eb);
      if (put(type.read(carryView, 0))) await flush();
      carryLen = 0;
    }
    const whole = Math.floor((chunk.length - p) / eb);
    if (whole > 0 && k + whole > total) throw trailing(start + total * eb);
    if (type.uint8 && !full) {
      // Bytes stay bytes: copy whole runs into the block.
      let q = p;
      const endQ = p + whole;
      while (q < endQ) {
        const n = Math.min(block!.length - inBlock, endQ - q);
        (block as Uint8Array).set(chunk.subarray(q, q + n), inBlock);
        inBlock += n;
        k += n;
        q += n;
        if (inBlock === block!.length) await flush();
      }
    } else {
      const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let e = 0; e < whole; e++) if (put(type.read(view, p + e * eb))) await flush();
    }
    p += whole * eb;
    if (p < chunk.length) {
      if (k >= total) throw trailing(start + k * eb);
      carry.set(chunk.subarray(p), 0);
      carryLen = chunk.length - p;
    }
  }
  if (k < total || carryLen > 0) {
    const got = k * eb + carryLen;
    throw new DatasetError(
      `byte ${start + got}`,
      `the file ends early (truncated): the header declares ${layout.shapeText} ${type.name}, ${expectedBytes} bytes of data from byte ${start}, but only ${got} follow`,
    );
  }
  if (full) {
    const per = blockRows(width);
    const out = alloc(type.uint8, per * width);
    for (let r = 0; r < rows; r += per) {
      const n = Math.min(per, rows - r);
      const src = full.subarray(r * width, (r + n) * width);
      const dst = out.subarray(0, n * width);
      dst.set(src);
      await consumer.rows(dst, n);
    }
  } else {
    await flush();
  }
}

/** Fortran order over trailing dimensions `dims`: column-major linear index -> row-major linear index. */
export function columnMajorToRowMajor(dims: readonly number[]): Uint32Array {
  const size = dims.reduce((a, b) => a * b, 1);
  const map = new Uint32Array(size);
  const idx = new Array<number>(dims.length).fill(0);
  for (let f = 0; f < size; f++) {
    let c = 0;
    for (let a = 0; a < dims.length; a++) c = c * dims[a] + idx[a];
    map[f] = c;
    // advance the column-major multi-index: the first dimension fastest
    for (let a = 0; a < dims.length; a++) {
      if (++idx[a] < dims[a]) break;
      idx[a] = 0;
    }
  }
  return map;
}
