// The IDX format of the MNIST files (yann.lecun.com/exdb/mnist): a magic number 0x00 0x00 <type> <dims>,
// then each dimension as a 32-bit big-endian integer, then the data, big-endian, row-major.
// Types: 0x08 unsigned byte, 0x09 signed byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double.
import { DatasetError } from '../errors.js';
import { decodeBody, elementType, type ElementType } from './binary-body.js';
import type { ByteInput } from './byte-input.js';
import { checkShape, shapeText } from './shape.js';
import type { DecodeOptions, RowConsumer } from './types.js';

const TYPES: Record<number, [string, number]> = {
  0x08: ['u', 1],
  0x09: ['i', 1],
  0x0b: ['i', 2],
  0x0c: ['i', 4],
  0x0d: ['f', 4],
  0x0e: ['f', 8],
};
const TYPE_NAMES: Record<number, string> = { 0x08: 'ubyte', 0x09: 'byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double' };
const MAX_DIMS = 8;

export function isIdx(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0 && head[1] === 0 && head[2] in TYPES && head[3] >= 1 && head[3] <= MAX_DIMS;
}

export interface IdxHeader {
  type: ElementType;
  shape: number[];
  dataStart: number;
}

export async function readIdxHeader(input: ByteInput): Promise<IdxHeader> {
  const have = await input.fill(4);
  const head = input.peek();
  const hex = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  if (have < 4 || head[0] !== 0 || head[1] !== 0) {
    throw new DatasetError('byte 0', `not an IDX file: bad magic (expected 00 00 <type> <dimensions>, got ${hex || 'nothing'})`);
  }
  const code = head[2];
  const kind = TYPES[code];
  if (!kind) {
    throw new DatasetError('byte 2', `IDX type code 0x${code.toString(16).padStart(2, '0')} is unknown (0x08 ubyte, 0x09 byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double)`);
  }
  const dims = head[3];
  if (dims < 1 || dims > MAX_DIMS) throw new DatasetError('byte 3', `${dims} dimensions; an IDX dataset file has 1 to ${MAX_DIMS}`);
  const dataStart = 4 + 4 * dims;
  if ((await input.fill(dataStart)) < dataStart) {
    throw new DatasetError(`byte ${input.peek().length}`, `the file ends inside the header (truncated; ${dims} dimensions need ${dataStart} header bytes)`);
  }
  const bytes = input.take(dataStart);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: dims }, (_, a) => view.getUint32(4 + 4 * a, false));
  const name = `${TYPE_NAMES[code]} (0x${code.toString(16).padStart(2, '0')})`;
  return { type: elementType(name, kind[0], kind[1], false)!, shape, dataStart };
}

export async function decodeIdx(input: ByteInput, options: DecodeOptions, consumer: RowConsumer): Promise<void> {
  const { type, shape, dataStart } = await readIdxHeader(input);
  const { rows, width } = checkShape(shape, options.limits, 'header');
  consumer.begin({
    format: 'idx',
    rows,
    width,
    type: type.uint8 ? 'uint8' : 'float',
    shape,
    hasLabels: false,
    locate: (i, j) => `row ${i}, column ${j} (byte ${dataStart + (i * width + j) * type.bytes})`,
  });
  await decodeBody(input, { type, rows, width, fortran: false, start: dataStart, shapeText: shapeText(shape) }, consumer);
}
