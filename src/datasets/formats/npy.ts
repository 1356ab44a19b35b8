// NumPy's .npy format (numpy.lib.format, versions 1.0-3.0): the magic "\x93NUMPY", a version, the header
// length (2 bytes little-endian in 1.0, 4 in 2.0 and 3.0), then a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (70000, 784), } padded with spaces to a multiple of
// 64 bytes, then the data. No npm package parses the header of a stream (the ones there read a whole
// buffer), so the literal is parsed here, strictly.
import { DatasetError } from '../errors.js';
import { columnMajorToRowMajor, decodeBody, elementType, type ElementType } from './binary-body.js';
import type { ByteInput } from './byte-input.js';
import { checkShape, shapeText } from './shape.js';
import type { DecodeOptions, RowConsumer } from './types.js';

export const NPY_MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
/** numpy refuses larger headers too (format.py's _MAX_HEADER_SIZE). */
const MAX_HEADER_BYTES = 10_000;

export interface NpyHeader {
  version: string;
  descr: string;
  type: ElementType;
  fortranOrder: boolean;
  shape: number[];
  /** Offset of the data. */
  dataStart: number;
}

export function isNpy(head: Uint8Array): boolean {
  return head.length >= NPY_MAGIC.length && NPY_MAGIC.every((b, i) => head[i] === b);
}

class HeaderSyntaxError extends Error {
  constructor(
    readonly what: string,
    readonly at: number,
  ) {
    super(what);
  }
}

type PyValue = string | boolean | number | PyValue[] | { [key: string]: PyValue };

/** The subset of Python literals numpy writes: dicts, tuples, lists, strings, ints, True/False. */
function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new HeaderSyntaxError(what, i);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, PyValue> = {};
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return out;
        }
        const key = value();
        if (typeof key !== 'string') fail('a key that is not a string');
        ws();
        if (text[i] !== ':') fail('a missing ":"');
        i++;
        if (Object.hasOwn(out, key as string)) fail(`the key ${JSON.stringify(key)} twice`);
        out[key as string] = value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail('a missing "," or "}"');
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const out: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          return out;
        }
        out.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`a missing "," or "${close}"`);
      }
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('an unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const word = /^(True|False|\d+)L?/.exec(text.slice(i));
    if (!word) return fail('an unexpected character');
    i += word[0].length;
    return word[1] === 'True' ? true : word[1] === 'False' ? false : Number(word[1]);
  };
  const out = value();
  ws();
  if (i < text.length) fail('text after the dictionary');
  return out;
}

/** '<f4' -> float32 little-endian; '|u1' -> bytes; structured, complex, string and object dtypes are refused. */
function dtypeOf(descr: PyValue): ElementType {
  if (typeof descr !== 'string') {
    throw new DatasetError('header', `the dtype is structured (${JSON.stringify(descr).slice(0, 80)}); save a plain numeric array`);
  }
  const m = /^([<>|=])([biuf])(\d+)$/.exec(descr);
  const order = m?.[1];
  // '=' is the writer's native order; numpy itself always writes '<' or '>' (or '|' for single bytes).
  const type = m ? elementType(descr, m[2], Number(m[3]), order !== '>') : undefined;
  if (!type) {
    throw new DatasetError(
      'header',
      `dtype ${JSON.stringify(descr)} is not supported; use a numeric one: |u1 |i1 <i2 <u2 <i4 <u4 <i8 <u8 <f4 <f8 (or big-endian >), or |b1`,
    );
  }
  return type;
}

/** Reads and checks the header; leaves `input` at the first data byte. */
export async function readNpyHeader(input: ByteInput): Promise<NpyHeader> {
  const have = await input.fill(10);
  const head = input.peek();
  if (!isNpy(head)) {
    const got = Array.from(head.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DatasetError('byte 0', `not an NPY file: bad magic (expected 93 4e 55 4d 50 59, "\\x93NUMPY"; got ${got || 'nothing'})`);
  }
  if (have < 10) throw new DatasetError(`byte ${have}`, 'the file ends inside the NPY preamble (truncated)');
  const major = head[6];
  const minor = head[7];
  if (major < 1 || major > 3) throw new DatasetError('byte 6', `NPY format version ${major}.${minor} is unknown (1.0, 2.0 and 3.0 are)`);
  const lenBytes = major === 1 ? 2 : 4;
  if ((await input.fill(8 + lenBytes)) < 8 + lenBytes) throw new DatasetError('byte 8', 'the file ends inside the NPY preamble (truncated)');
  const pre = input.peek();
  const view = new DataView(pre.buffer, pre.byteOffset, pre.byteLength);
  const headerLength = lenBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) throw new DatasetError('byte 8', `the header length ${headerLength} is implausible (at most ${MAX_HEADER_BYTES})`);
  const dataStart = 8 + lenBytes + headerLength;
  if ((await input.fill(dataStart)) < dataStart) {
    throw new DatasetError(`byte ${input.peek().length}`, `the file ends inside the header (truncated; it declares ${headerLength} header bytes)`);
  }
  const bytes = input.take(dataStart).subarray(8 + lenBytes);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes);
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text);
  } catch (err) {
    if (!(err instanceof HeaderSyntaxError)) throw err;
    const header = JSON.stringify(text.trim().slice(0, 120));
    throw new DatasetError(`byte ${8 + lenBytes + err.at}`, `the NPY header is not a valid dictionary literal (${err.what}): ${header}`);
  }
  if (typeof dict !== 'object' || Array.isArray(dict)) throw new DatasetError('header', 'the header is not a dictionary');
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!Object.hasOwn(dict, key)) throw new DatasetError('header', `the header has no '${key}'`);
  }
  const extra = Object.keys(dict).filter((k) => !['descr', 'fortran_order', 'shape'].includes(k));
  if (extra.length > 0) throw new DatasetError('header', `the header has unknown keys: ${extra.join(', ')}`);
  const type = dtypeOf(dict.descr);
  if (typeof dict.fortran_order !== 'boolean') throw new DatasetError('header', "'fortran_order' must be True or False");
  const shape = dict.shape;
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) {
    throw new DatasetError('header', "'shape' must be a tuple of integers");
  }
  return {
    version: `${major}.${minor}`,
    descr: dict.descr as string,
    type,
    fortranOrder: dict.fortran_order,
    shape: shape as number[],
    dataStart,
  };
}

export async function decodeNpy(input: ByteInput, options: DecodeOptions, consumer: RowConsumer): Promise<void> {
  const header = await readNpyHeader(input);
  const { rows, width } = checkShape(header.shape, options.limits, 'header');
  const { type, dataStart } = header;
  const trailing = header.shape.slice(1);
  // Column-major order only matters with more than one column; 1-D and (n, 1) arrays read the same.
  const fortran = header.fortranOrder && width > 1;
  const columnOrder = fortran && trailing.length > 1 ? columnMajorToRowMajor(trailing) : undefined;
  let rowMajorToColumnMajor: Uint32Array | undefined;
  if (columnOrder) {
    rowMajorToColumnMajor = new Uint32Array(columnOrder.length);
    columnOrder.forEach((c, f) => (rowMajorToColumnMajor![c] = f));
  }
  consumer.begin({
    format: 'npy',
    rows,
    width,
    type: type.uint8 ? 'uint8' : 'float',
    shape: header.shape,
    hasLabels: false,
    locate: (i, j) => {
      const element = fortran ? (rowMajorToColumnMajor ? rowMajorToColumnMajor[j] : j) * rows + i : i * width + j;
      return `row ${i}, column ${j} (byte ${dataStart + element * type.bytes})`;
    },
  });
  await decodeBody(input, { type, rows, width, fortran, columnOrder, start: dataStart, shapeText: shapeText(header.shape) }, consumer);
}
