// The files of one checkpoint directory, encoded and decoded (no directory handling here):
//   weights.bin          every tensor, float32 little-endian, back to back (in the TF.js manifest's order
//                        when there is one, so the file is the TF.js weights.bin as it is)
//   checkpoint.json      the checkpoint document with each tensor replaced by {offset, shape} into
//                        weights.bin: small, readable, self-describing
//   training-state.bin   the optimizer state: one JSON header line (format, counter, each slot's name,
//                        shape and offset), padded so that the float32 slot values after it are aligned
// Typed arrays are little-endian on every platform Node supports, so bytes are written as they are.
// Directories written by earlier versions (checkpoint.json the whole document with inline values,
// training-state.json beside it) are read as they are.
import { CHECKPOINT_FORMAT, TRAINING_STATE_FORMAT, type CheckpointDocument, type TfjsModelJson, type TrainingState } from '../schemas/checkpoint.js';
import { checkpointMeta, namedTensors, TENSOR_FIELDS, type Checkpoint, type CheckpointMeta, type TensorLayer } from '../checkpoint/checkpoint.js';
import { CheckpointFormatError } from '../checkpoint/errors.js';

/** The on-disk format of checkpoint.json (the served document stays bn-checkpoint/v1). */
export const CHECKPOINT_FILE_FORMAT = 'bn-checkpoint/v2';

interface TensorRef {
  offset: number;
  shape: number[];
}

type LayerFile =
  | { type: 'dense'; name: string; kernel: TensorRef; bias?: TensorRef }
  | ({ type: 'batchNorm'; name: string; gamma: TensorRef; beta: TensorRef; movingMean: TensorRef; movingVariance: TensorRef } & Pick<
      Extract<TensorLayer, { type: 'batchNorm' }>,
      'epsilon' | 'momentum' | 'varianceEstimator'
    >)
  | Extract<TensorLayer, { type: 'activation' }>;

export interface CheckpointFile extends Omit<CheckpointMeta, 'format'> {
  format: typeof CHECKPOINT_FILE_FORMAT;
  weights: { file: 'weights.bin'; bytes: number; dtype: 'float32'; byteOrder: 'little-endian' };
  layers: LayerFile[];
}

const bytesOf = (v: Float32Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** weights.bin's chunks and checkpoint.json's text for a checkpoint. */
export function encodeCheckpoint(checkpoint: Checkpoint, tfjs?: TfjsModelJson): { weights: Uint8Array[]; json: string; bytes: number } {
  const tensors = namedTensors(checkpoint.layers);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  // The manifest's order when it names exactly these tensors; else the layers' order.
  const manifest = tfjs?.weightsManifest.flatMap((g) => g.weights.map((w) => w.name)) ?? [];
  const ordered =
    manifest.length === tensors.length && manifest.every((n) => byName.has(n)) ? manifest.map((n) => byName.get(n)!) : tensors;
  const offsets = new Map<string, number>();
  let bytes = 0;
  for (const t of ordered) {
    offsets.set(t.name, bytes);
    bytes += t.values.byteLength;
  }
  const ref = (name: string, shape: number[]): TensorRef => ({ offset: offsets.get(name)!, shape });
  const layers = checkpoint.layers.map((l): LayerFile => {
    if (l.type === 'activation') return { type: 'activation', name: l.name, fn: l.fn };
    if (l.type === 'dense') {
      const d: LayerFile = { type: 'dense', name: l.name, kernel: ref(`${l.name}/kernel`, [l.inputs, l.units]) };
      if (l.bias) d.bias = ref(`${l.name}/bias`, [l.units]);
      return d;
    }
    const width = [l.gamma.length];
    return {
      type: 'batchNorm',
      name: l.name,
      gamma: ref(`${l.name}/gamma`, width),
      beta: ref(`${l.name}/beta`, width),
      movingMean: ref(`${l.name}/moving_mean`, width),
      movingVariance: ref(`${l.name}/moving_variance`, width),
      epsilon: l.epsilon,
      momentum: l.momentum,
      varianceEstimator: l.varianceEstimator,
    };
  });
  const file: CheckpointFile = {
    ...checkpointMeta(checkpoint),
    format: CHECKPOINT_FILE_FORMAT,
    weights: { file: 'weights.bin', bytes, dtype: 'float32', byteOrder: 'little-endian' },
    layers,
  };
  return { weights: ordered.map((t) => bytesOf(t.values)), json: JSON.stringify(file, finiteOnly), bytes };
}

/** Rejects NaN and Infinity, which JSON.stringify would silently turn into null. */
export function finiteOnly(key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`refusing to store a non-finite number (${value}) at key "${key}"`);
  }
  return value;
}

/** A Float32Array view of `weights` (4-byte aligned) for a reference, checked against the file's size. */
function view(weights: Uint8Array, ref: unknown, field: string, length: number): Float32Array {
  const r = ref as Partial<TensorRef> | undefined;
  const offset = r?.offset;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset % 4 !== 0) {
    throw new CheckpointFormatError(field, 'must reference weights.bin at a 4-byte aligned offset');
  }
  if (offset + length * 4 > weights.byteLength) {
    throw new CheckpointFormatError(field, `reaches past the end of weights.bin (${weights.byteLength} bytes)`);
  }
  return new Float32Array(weights.buffer, weights.byteOffset + offset, length);
}

const product = (shape: unknown): number => (Array.isArray(shape) ? shape.reduce((a: number, b: number) => a * b, 1) : NaN);

/** The parsed checkpoint.json: this store's format, or an earlier version's whole document. */
export function parseCheckpointFile(text: string): CheckpointFile | CheckpointDocument {
  const file = JSON.parse(text) as CheckpointFile | CheckpointDocument;
  const format: unknown = file?.format;
  if (format !== CHECKPOINT_FILE_FORMAT && format !== CHECKPOINT_FORMAT) {
    throw new CheckpointFormatError('format', `expected ${CHECKPOINT_FILE_FORMAT}, got ${String(format)}`);
  }
  if (!Array.isArray(file.layers)) throw new CheckpointFormatError('layers', 'must be an array');
  return file;
}

export const isLegacyDocument = (f: CheckpointFile | CheckpointDocument): f is CheckpointDocument => f.format === CHECKPOINT_FORMAT;

/** An earlier version's training-state.json: tfjs's optimizer weights by name, values inline, 'iter' first. */
export function decodeLegacyTrainingState(text: string): TrainingState {
  const old = JSON.parse(text) as {
    modelId: string;
    epoch: number;
    optimizer: { type: TrainingState['optimizer']['type']; weights: { name: string; shape: number[]; values: number[] }[] };
  };
  const iter = old.optimizer.weights.find((w) => w.name === 'iter');
  if (!iter) throw new CheckpointFormatError('training-state.json optimizer', 'has no iteration counter');
  return {
    format: TRAINING_STATE_FORMAT,
    modelId: old.modelId,
    epoch: old.epoch,
    optimizer: {
      type: old.optimizer.type,
      iterations: iter.values[0],
      slots: old.optimizer.weights.filter((w) => w !== iter).map((w) => ({ name: w.name, shape: w.shape, values: Float32Array.from(w.values) })),
    },
  };
}

/** The checkpoint in memory: views into `weights` (4-byte aligned), no copy. */
export function decodeCheckpoint(file: CheckpointFile, weights: Uint8Array): Checkpoint {
  if (weights.byteLength !== file.weights?.bytes) {
    throw new CheckpointFormatError('weights.bytes', `is ${file.weights?.bytes} but weights.bin has ${weights.byteLength} bytes`);
  }
  const aligned = weights.byteOffset % 4 === 0 ? weights : weights.slice();
  const layers = file.layers.map((l, i): TensorLayer => {
    const at = `layers[${i}] "${l.name}"`;
    if (l.type === 'activation') return { type: 'activation', name: l.name, fn: l.fn };
    if (l.type === 'dense') {
      const [inputs, units] = l.kernel?.shape ?? [];
      if (!(inputs >= 1 && units >= 1)) throw new CheckpointFormatError(`${at}.kernel.shape`, 'must be [inputs, units]');
      const dense: TensorLayer = { type: 'dense', name: l.name, inputs, units, kernel: view(aligned, l.kernel, `${at}.kernel`, inputs * units) };
      if (l.bias) dense.bias = view(aligned, l.bias, `${at}.bias`, units);
      return dense;
    }
    if (l.type === 'batchNorm') {
      const width = product(l.gamma?.shape);
      const tensor = (field: (typeof TENSOR_FIELDS.batchNorm)[number][0]) => view(aligned, l[field], `${at}.${field}`, width);
      return {
        type: 'batchNorm',
        name: l.name,
        gamma: tensor('gamma'),
        beta: tensor('beta'),
        movingMean: tensor('movingMean'),
        movingVariance: tensor('movingVariance'),
        epsilon: l.epsilon,
        momentum: l.momentum,
        varianceEstimator: l.varianceEstimator,
      };
    }
    throw new CheckpointFormatError(`${at}.type`, `unknown layer type ${String((l as { type: unknown }).type)}`);
  });
  const { weights: _weights, layers: _layers, format: _format, ...meta } = file;
  return { ...checkpointMeta({ ...meta, format: CHECKPOINT_FORMAT }), layers };
}

// ---------------------------------------------------------------------------------------------------
// training-state.bin

interface StateHeader {
  format: typeof TRAINING_STATE_FORMAT;
  modelId: string;
  epoch: number;
  optimizer: { type: TrainingState['optimizer']['type']; iterations: number; slots: { name: string; shape: number[]; offset: number }[] };
}

/** The header line and the slots' bytes; the line is padded with spaces so that the values start 4-byte aligned. */
export function encodeTrainingState(state: TrainingState): Uint8Array[] {
  let offset = 0;
  const slots = state.optimizer.slots.map((s) => {
    const at = offset;
    offset += s.values.byteLength;
    return { name: s.name, shape: s.shape, offset: at };
  });
  const header: StateHeader = {
    format: state.format,
    modelId: state.modelId,
    epoch: state.epoch,
    optimizer: { type: state.optimizer.type, iterations: state.optimizer.iterations, slots },
  };
  let line = JSON.stringify(header, finiteOnly);
  const length = Buffer.byteLength(line) + 1;
  line += ' '.repeat((4 - (length % 4)) % 4);
  return [Buffer.from(`${line}\n`), ...state.optimizer.slots.map((s) => bytesOf(s.values))];
}

export function decodeTrainingState(bytes: Uint8Array): TrainingState {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) throw new CheckpointFormatError('training-state.bin', 'has no header line');
  const header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, nl).toString('utf8')) as StateHeader;
  if (header.format !== TRAINING_STATE_FORMAT) {
    throw new CheckpointFormatError('training-state.bin format', `expected ${TRAINING_STATE_FORMAT}, got ${String(header.format)}`);
  }
  const payload = bytes.subarray(nl + 1);
  const aligned = payload.byteOffset % 4 === 0 ? payload : payload.slice();
  return {
    format: header.format,
    modelId: header.modelId,
    epoch: header.epoch,
    optimizer: {
      type: header.optimizer.type,
      iterations: header.optimizer.iterations,
      slots: header.optimizer.slots.map((s) => ({
        name: s.name,
        shape: s.shape,
        values: view(aligned, s, `training-state.bin ${s.name}`, product(s.shape)),
      })),
    },
  };
}
