// The checkpoint document (bn-checkpoint/v1, the JSON users read) and the in-memory checkpoint, both
// ways. The API streams the document in chunks, so a checkpoint of any size the limits allow is served
// without one giant string; float32 values are written as the JS numbers they are (the shortest text
// that parses back to the same double), so a document parses back to bit-identical parameters.
// fromDocument also checks the document's structure (shapes, numbers) with messages that name the field.
import { CHECKPOINT_FORMAT, type CheckpointDocument, type CheckpointLayer } from '../schemas/checkpoint.js';
import { CheckpointFormatError } from './errors.js';
import { checkpointMeta, type Checkpoint, type TensorLayer } from './checkpoint.js';

export interface DocumentOptions {
  /** only the batchNorm layers (`?include=bn`) */
  bnOnly?: boolean;
}

/** Aim of each streamed chunk: large enough to keep the per-chunk cost low, small enough to stay cheap in memory. */
const CHUNK_CHARS = 1 << 16;

function vectorJson(values: Float32Array, from = 0, to = values.length): string {
  let s = '[';
  for (let i = from; i < to; i++) s += (i === from ? '' : ',') + String(values[i]);
  return `${s}]`;
}

/** One layer as JSON text chunks, keys in the order the document has always had. */
function* layerChunks(layer: TensorLayer): Generator<string> {
  if (layer.type === 'activation') {
    yield JSON.stringify(layer);
    return;
  }
  if (layer.type === 'batchNorm') {
    const { name, gamma, beta, movingMean, movingVariance, epsilon, momentum, varianceEstimator } = layer;
    yield `{"type":"batchNorm","name":${JSON.stringify(name)},"gamma":${vectorJson(gamma)},"beta":${vectorJson(beta)}`;
    yield `,"movingMean":${vectorJson(movingMean)},"movingVariance":${vectorJson(movingVariance)}`;
    yield `,"epsilon":${JSON.stringify(epsilon)},"momentum":${JSON.stringify(momentum)},"varianceEstimator":${JSON.stringify(varianceEstimator)}}`;
    return;
  }
  const { inputs, units, kernel } = layer;
  let chunk = `{"type":"dense","name":${JSON.stringify(layer.name)},"kernel":[`;
  for (let i = 0; i < inputs; i++) {
    chunk += (i === 0 ? '' : ',') + vectorJson(kernel, i * units, (i + 1) * units);
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}]${layer.bias ? `,"bias":${vectorJson(layer.bias)}` : ''}}`;
}

/** The document as JSON text in chunks: exactly JSON.stringify(toDocument(checkpoint)), never built whole. */
export function* documentChunks(checkpoint: Checkpoint, options: DocumentOptions = {}): Generator<string> {
  const meta = JSON.stringify({ ...checkpointMeta(checkpoint), format: CHECKPOINT_FORMAT });
  yield `${meta.slice(0, -1)},"layers":[`;
  let first = true;
  for (const layer of checkpoint.layers) {
    if (options.bnOnly && layer.type !== 'batchNorm') continue;
    if (!first) yield ',';
    first = false;
    yield* layerChunks(layer);
  }
  yield ']}';
}

const numbers = (v: Float32Array): number[] => Array.from(v);

/** The whole document as an object (small checkpoints and tests; the API streams documentChunks). */
export function toDocument(checkpoint: Checkpoint): CheckpointDocument {
  const layers: CheckpointLayer[] = checkpoint.layers.map((l): CheckpointLayer => {
    if (l.type === 'activation') return { ...l };
    if (l.type === 'batchNorm') {
      return {
        type: 'batchNorm',
        name: l.name,
        gamma: numbers(l.gamma),
        beta: numbers(l.beta),
        movingMean: numbers(l.movingMean),
        movingVariance: numbers(l.movingVariance),
        epsilon: l.epsilon,
        momentum: l.momentum,
        varianceEstimator: l.varianceEstimator,
      };
    }
    const kernel: number[][] = [];
    for (let i = 0; i < l.inputs; i++) kernel.push(numbers(l.kernel.subarray(i * l.units, (i + 1) * l.units)));
    return l.bias ? { type: 'dense', name: l.name, kernel, bias: numbers(l.bias) } : { type: 'dense', name: l.name, kernel };
  });
  return { ...checkpointMeta(checkpoint), format: CHECKPOINT_FORMAT, layers };
}

// ---------------------------------------------------------------------------------------------------
// Reading a document: its structure is checked here (what JSON can get wrong: types, ragged rows);
// the values themselves (finite, shapes that chain, BN variances) by validateCheckpoint in src/inference.

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function layerLabel(index: number, layer: unknown): string {
  if (!isObject(layer)) return `layers[${index}]`;
  const name = typeof layer.name === 'string' ? ` "${layer.name}"` : '';
  const type = typeof layer.type === 'string' ? ` (${layer.type})` : '';
  return `layers[${index}]${name}${type}`;
}

/** A vector of numbers (finiteness is checked later), of the expected length when one is given. */
function toVector(v: unknown, field: string, length?: number): Float32Array {
  if (!Array.isArray(v)) throw new CheckpointFormatError(field, 'must be an array of numbers');
  if (length === undefined ? v.length === 0 : v.length !== length) {
    throw new CheckpointFormatError(field, `has ${v.length} entries, expected ${length ?? 'at least 1'}`);
  }
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new CheckpointFormatError(`${field}[${i}]`, `must be a finite number, got ${String(x)}`);
    }
    out[i] = x;
  }
  return out;
}

function toLayer(layer: unknown, index: number): TensorLayer {
  const label = layerLabel(index, layer);
  if (!isObject(layer)) throw new CheckpointFormatError(label, 'must be an object');
  if (typeof layer.name !== 'string') throw new CheckpointFormatError(`${label}.name`, 'must be a string');
  const name = layer.name;
  if (layer.type === 'dense') {
    const rows = layer.kernel;
    if (!Array.isArray(rows) || rows.length === 0) {
      throw new CheckpointFormatError(`${label}.kernel`, 'must be a non-empty array of rows [inputs][units]');
    }
    const first = toVector(rows[0], `${label}.kernel[0]`);
    const units = first.length;
    const kernel = new Float32Array(rows.length * units);
    kernel.set(first);
    for (let i = 1; i < rows.length; i++) kernel.set(toVector(rows[i], `${label}.kernel[${i}]`, units), i * units);
    const dense: TensorLayer = { type: 'dense', name, inputs: rows.length, units, kernel };
    if (layer.bias !== undefined) dense.bias = toVector(layer.bias, `${label}.bias`, units);
    return dense;
  }
  if (layer.type === 'batchNorm') {
    const gamma = toVector(layer.gamma, `${label}.gamma`);
    const width = gamma.length;
    return {
      type: 'batchNorm',
      name,
      gamma,
      beta: toVector(layer.beta, `${label}.beta`, width),
      movingMean: toVector(layer.movingMean, `${label}.movingMean`, width),
      movingVariance: toVector(layer.movingVariance, `${label}.movingVariance`, width),
      epsilon: layer.epsilon as number,
      momentum: layer.momentum as number,
      varianceEstimator: layer.varianceEstimator as 'biased' | 'unbiased',
    };
  }
  if (layer.type === 'activation') return { type: 'activation', name, fn: layer.fn as never };
  throw new CheckpointFormatError(`${label}.type`, `unknown layer type ${String(layer.type)} (dense, batchNorm, activation)`);
}

/** A parsed checkpoint document as a checkpoint in memory; throws CheckpointFormatError naming the field. */
export function fromDocument(doc: unknown): Checkpoint {
  if (!isObject(doc)) throw new CheckpointFormatError('document', 'must be an object');
  if (doc.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointFormatError('format', `expected ${CHECKPOINT_FORMAT}, got ${String(doc.format)}`);
  }
  if (!Array.isArray(doc.layers) || doc.layers.length === 0) throw new CheckpointFormatError('layers', 'must be a non-empty array');
  if (doc.bnStatistics !== undefined && doc.bnStatistics !== 'ema' && doc.bnStatistics !== 'precise') {
    throw new CheckpointFormatError('bnStatistics', `must be ema or precise when present, got ${String(doc.bnStatistics)}`);
  }
  const meta = checkpointMeta(doc as unknown as CheckpointDocument);
  return { ...meta, layers: doc.layers.map(toLayer) };
}
