// Tensors of the Open Inference Protocol on the wire, in and out: JSON `data` (flat or nested, row-major)
// or binary tensor data (little-endian, row-major, cut from the body in input order), and outputs as JSON,
// as binary, or as the classification extension's top-k "value:index" strings. Knows nothing of models.
import { ApiError } from '../plugins/app/errors.js';
import { DATATYPE_BYTES, INPUT_DATATYPES, PROTOCOL_DATATYPES, isInputDatatype, type InputDatatype } from './datatypes.js';
import type { RequestInput, ResponseOutput } from '../routes/v2/schemas.js';

export interface InputTensor {
  name: string;
  shape: number[];
  datatype: InputDatatype;
  /** Row-major. Plain numbers: rows go to the engines as they are, without a copy. */
  values: number[];
}

const bad = (message: string, field: string) => new ApiError(400, message, field);

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** JSON data, flat or nested no deeper than the shape, row-major; every element a number. */
function flattenJson(data: unknown[], depth: number, field: string): number[] {
  let flat = true;
  for (let i = 0; i < data.length && flat; i++) flat = typeof data[i] === 'number';
  if (flat) return data as number[];
  const out: number[] = [];
  const walk = (items: unknown[], level: number, path: string): void => {
    for (let i = 0; i < items.length; i++) {
      const v = items[i];
      if (typeof v === 'number') out.push(v);
      else if (Array.isArray(v)) {
        if (level >= depth) throw bad(`${path}[${i}] is nested deeper than the shape allows`, `${path}[${i}]`);
        walk(v, level + 1, `${path}[${i}]`);
      } else throw bad(`${path}[${i}] must be a number, got ${v === null ? 'null' : typeof v}`, `${path}[${i}]`);
    }
  };
  walk(data, 1, field);
  return out;
}

function readBinary(bytes: Buffer, datatype: InputDatatype): number[] {
  const size = DATATYPE_BYTES[datatype] as number;
  const out = new Array<number>(bytes.length / size);
  // DataView, not a typed-array view of the buffer: the tensor may start at any byte offset.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (datatype === 'FP32') for (let k = 0; k < out.length; k++) out[k] = view.getFloat32(4 * k, true);
  else for (let k = 0; k < out.length; k++) out[k] = view.getFloat64(8 * k, true);
  return out;
}

/**
 * The request's input tensors. JSON inputs carry `data`; binary ones carry parameters.binary_data_size and
 * take that many bytes of `binary`, in input order; every byte of `binary` must be taken. 400 naming the
 * input for an unknown or unsupported datatype, a size that does not match the shape, or missing data.
 */
export function decodeInputs(inputs: readonly RequestInput[], binary: Buffer): InputTensor[] {
  let offset = 0;
  const out = inputs.map((input, i): InputTensor => {
    const field = `inputs[${i}]`;
    const { name, shape, datatype } = input;
    if (!(datatype in DATATYPE_BYTES)) {
      throw bad(`${field} (${name}): datatype ${JSON.stringify(datatype)} is not a datatype of the protocol (${PROTOCOL_DATATYPES.join(', ')})`, `${field}.datatype`);
    }
    if (!isInputDatatype(datatype)) {
      throw bad(`${field} (${name}): datatype ${datatype} is not supported; send ${INPUT_DATATYPES.join(' or ')}`, `${field}.datatype`);
    }
    const count = elementCount(shape);
    const size = input.parameters?.binary_data_size;
    if (size !== undefined && input.data !== undefined) {
      throw bad(`${field} (${name}) has both data and parameters.binary_data_size; send one of them`, `${field}.data`);
    }
    if (size === undefined) {
      if (input.data === undefined) throw bad(`${field} (${name}) needs data, or parameters.binary_data_size with binary data after the JSON`, `${field}.data`);
      const values = flattenJson(input.data, Math.max(1, shape.length), `${field}.data`);
      if (values.length !== count) {
        throw bad(`${field} (${name}): shape ${shapeText(shape)} has ${count} elements, data has ${values.length}`, `${field}.data`);
      }
      return { name, shape, datatype, values };
    }
    const expected = count * (DATATYPE_BYTES[datatype] as number);
    if (size !== expected) {
      throw bad(`${field} (${name}): binary_data_size is ${size}, but shape ${shapeText(shape)} of ${datatype} takes ${expected} bytes`, `${field}.parameters.binary_data_size`);
    }
    if (binary.length === 0 && size > 0) {
      throw bad(`${field} (${name}) has parameters.binary_data_size but the request has no binary data: send Inference-Header-Content-Length with the length of the JSON object`, `${field}.parameters.binary_data_size`);
    }
    if (offset + size > binary.length) {
      throw bad(`${field} (${name}) needs ${size} bytes of binary data, but only ${binary.length - offset} remain after the JSON object and the inputs before it`, `${field}.parameters.binary_data_size`);
    }
    const values = readBinary(binary.subarray(offset, offset + size), datatype);
    offset += size;
    return { name, shape, datatype, values };
  });
  if (offset !== binary.length) {
    throw bad(`the body has ${binary.length - offset} bytes after the binary data of the inputs (their binary_data_size add up to ${offset})`, 'binary_data_size');
  }
  return out;
}

export interface OutputTensor {
  name: string;
  /** [rows, width] */
  shape: [number, number];
  /** Row-major; sent as FP32. */
  values: ArrayLike<number>;
}

export interface OutputEncoding {
  binary: boolean;
  /** Top-k classes per row instead of the tensor (classification extension). */
  classification?: number;
}

/**
 * Triton's classification strings: per row the k largest values, largest first (ties: lower index first),
 * as "<value>:<index>" with the value printed as C's %f prints it (6 decimals).
 */
export function classify(t: OutputTensor, k: number): { shape: [number, number]; labels: string[] } {
  const [rows, width] = t.shape;
  const kept = Math.min(k, width);
  const labels: string[] = [];
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: width }, (_, j) => Math.fround(t.values[r * width + j]));
    const order = row.map((_, j) => j).sort((a, b) => row[b] - row[a] || a - b);
    for (let c = 0; c < kept; c++) labels.push(`${row[order[c]].toFixed(6)}:${order[c]}`);
  }
  return { shape: [rows, kept], labels };
}

/** BYTES as binary tensor data: each element a 4-byte little-endian length, then its UTF-8 bytes. */
function bytesTensor(labels: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of labels) {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length, 0);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}

function fp32Tensor(values: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let k = 0; k < values.length; k++) out.writeFloatLE(values[k], 4 * k);
  return out;
}

/**
 * One output of the answer: its JSON object and, when sent as binary, its bytes. JSON FP32 values are the
 * float32 values the binary form carries (Math.fround), so that both forms say the same number.
 */
export function encodeOutput(t: OutputTensor, how: OutputEncoding): { json: ResponseOutput; bytes?: Buffer } {
  if (how.classification !== undefined) {
    const { shape, labels } = classify(t, how.classification);
    if (!how.binary) return { json: { name: t.name, datatype: 'BYTES', shape, data: labels } };
    const bytes = bytesTensor(labels);
    return { json: { name: t.name, datatype: 'BYTES', shape, parameters: { binary_data_size: bytes.length } }, bytes };
  }
  if (!how.binary) return { json: { name: t.name, datatype: 'FP32', shape: t.shape, data: Array.from(t.values, Math.fround) } };
  const bytes = fp32Tensor(t.values);
  return { json: { name: t.name, datatype: 'FP32', shape: t.shape, parameters: { binary_data_size: bytes.length } }, bytes };
}
