// Structural validation of a checkpoint document before compiling it. The TypeBox schema is not enough:
// it cannot check that shapes chain (kernel rows = previous width) or that every number is finite, and
// documents may come from a store that was written by another version.
import { CHECKPOINT_FORMAT, type CheckpointDocument, type CheckpointLayer } from '../schemas/checkpoint.js';
import { CheckpointFormatError } from './errors.js';

const ACTIVATIONS = new Set(['relu', 'sigmoid', 'tanh', 'linear', 'softmax']);
const ESTIMATORS = new Set(['biased', 'unbiased']);

export interface CheckpointShape {
  inputDim: number;
  outputDim: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function layerLabel(index: number, layer: unknown): string {
  if (!isObject(layer)) return `layers[${index}]`;
  const name = typeof layer.name === 'string' ? ` "${layer.name}"` : '';
  const type = typeof layer.type === 'string' ? ` (${layer.type})` : '';
  return `layers[${index}]${name}${type}`;
}

/** A finite-number vector of the expected length (or any length >= 1 when `length` is undefined). */
function checkVector(v: unknown, field: string, length?: number): number {
  if (!Array.isArray(v)) throw new CheckpointFormatError(field, 'must be an array of numbers');
  if (length === undefined ? v.length === 0 : v.length !== length) {
    throw new CheckpointFormatError(field, `has ${v.length} entries, expected ${length ?? 'at least 1'}`);
  }
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new CheckpointFormatError(`${field}[${i}]`, `must be a finite number, got ${String(x)}`);
    }
  }
  return v.length;
}

function checkString(layer: Record<string, unknown>, key: string, label: string): void {
  if (typeof layer[key] !== 'string') throw new CheckpointFormatError(`${label}.${key}`, 'must be a string');
}

/** Validates one layer given the width of its input; returns the width of its output. */
function checkLayer(layer: unknown, index: number, width: number | undefined): number {
  const label = layerLabel(index, layer);
  if (!isObject(layer)) throw new CheckpointFormatError(label, 'must be an object');
  checkString(layer, 'name', label);
  switch (layer.type) {
    case 'dense': {
      const kernel = layer.kernel;
      if (!Array.isArray(kernel) || kernel.length === 0) {
        throw new CheckpointFormatError(`${label}.kernel`, 'must be a non-empty array of rows [inputs][units]');
      }
      if (width !== undefined && kernel.length !== width) {
        throw new CheckpointFormatError(`${label}.kernel`, `has ${kernel.length} rows, expected ${width} (the width of its input)`);
      }
      const units = checkVector(kernel[0], `${label}.kernel[0]`);
      for (let i = 1; i < kernel.length; i++) checkVector(kernel[i], `${label}.kernel[${i}]`, units);
      if (layer.bias !== undefined) checkVector(layer.bias, `${label}.bias`, units);
      return units;
    }
    case 'batchNorm': {
      if (width === undefined) throw new CheckpointFormatError(label, 'the first layer must be dense');
      for (const key of ['gamma', 'beta', 'movingMean', 'movingVariance'] as const) {
        checkVector(layer[key], `${label}.${key}`, width);
      }
      const eps = layer.epsilon;
      if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
        throw new CheckpointFormatError(`${label}.epsilon`, `must be a finite number >= 0, got ${String(eps)}`);
      }
      const variance = layer.movingVariance as number[];
      for (let j = 0; j < width; j++) {
        // var + eps must be > 0 or the normalisation divides by zero.
        if (!(variance[j] >= 0) || !(variance[j] + eps > 0)) {
          throw new CheckpointFormatError(`${label}.movingVariance[${j}]`, `must be >= 0 with movingVariance + epsilon > 0, got ${variance[j]}`);
        }
      }
      const momentum = layer.momentum;
      if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) {
        throw new CheckpointFormatError(`${label}.momentum`, `must be a number in [0, 1), got ${String(momentum)}`);
      }
      if (!ESTIMATORS.has(layer.varianceEstimator as string)) {
        throw new CheckpointFormatError(`${label}.varianceEstimator`, `must be biased or unbiased, got ${String(layer.varianceEstimator)}`);
      }
      return width;
    }
    case 'activation': {
      if (width === undefined) throw new CheckpointFormatError(label, 'the first layer must be dense');
      if (!ACTIVATIONS.has(layer.fn as string)) {
        throw new CheckpointFormatError(`${label}.fn`, `unknown activation ${String(layer.fn)} (relu, sigmoid, tanh, linear, softmax)`);
      }
      return width;
    }
    default:
      throw new CheckpointFormatError(`${label}.type`, `unknown layer type ${String(layer.type)} (dense, batchNorm, activation)`);
  }
}

/** Throws CheckpointFormatError naming the first problem; returns the input and output widths. */
export function validateCheckpoint(doc: CheckpointDocument): CheckpointShape {
  const d: unknown = doc;
  if (!isObject(d)) throw new CheckpointFormatError('document', 'must be an object');
  if (d.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointFormatError('format', `expected ${CHECKPOINT_FORMAT}, got ${String(d.format)}`);
  }
  if (typeof d.modelId !== 'string') throw new CheckpointFormatError('modelId', 'must be a string');
  if (!Number.isInteger(d.epoch) || (d.epoch as number) < 1) {
    throw new CheckpointFormatError('epoch', `must be an integer >= 1, got ${String(d.epoch)}`);
  }
  const layers = d.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw new CheckpointFormatError('layers', 'must be a non-empty array');
  let width: number | undefined;
  let inputDim = 0;
  layers.forEach((layer: CheckpointLayer, i) => {
    if (i === 0 && isObject(layer) && layer.type === 'dense' && Array.isArray(layer.kernel)) inputDim = layer.kernel.length;
    width = checkLayer(layer, i, width);
  });
  const outputDim = width as number;
  const spec = d.spec;
  if (!isObject(spec)) throw new CheckpointFormatError('spec', 'must be an object');
  if (spec.inputDim !== inputDim) {
    throw new CheckpointFormatError('spec.inputDim', `is ${String(spec.inputDim)} but the first kernel has ${inputDim} rows`);
  }
  if (spec.outputDim !== outputDim) {
    throw new CheckpointFormatError('spec.outputDim', `is ${String(spec.outputDim)} but the last layer has ${outputDim} units`);
  }
  return { inputDim, outputDim };
}
