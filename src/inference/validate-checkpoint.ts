// Validation of a checkpoint before compiling it: shapes that chain (a kernel's rows = the width before
// it), finite values, BN variances that can be normalised with, and a spec that matches the layers. The
// store reads checkpoints that another version (or a restored backup) may have written, so nothing is
// taken on trust.
import { CHECKPOINT_FORMAT } from '../schemas/checkpoint.js';
import type { Checkpoint, TensorLayer } from '../checkpoint/checkpoint.js';
import { layerLabel } from '../checkpoint/document.js';
import { CheckpointFormatError } from '../checkpoint/errors.js';

const ACTIVATIONS = new Set(['relu', 'sigmoid', 'tanh', 'linear', 'softmax']);
const ESTIMATORS = new Set(['biased', 'unbiased']);

export interface CheckpointShape {
  inputDim: number;
  outputDim: number;
}

/** `units` is the row length when the vector is a kernel (its index is reported as [row][column]). */
function checkFinite(v: Float32Array, field: string, units?: number): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      const at = units === undefined ? `[${i}]` : `[${Math.floor(i / units)}][${i % units}]`;
      throw new CheckpointFormatError(`${field}${at}`, `must be a finite number, got ${String(v[i])}`);
    }
  }
}

function checkLength(v: unknown, field: string, length: number): void {
  if (!(v instanceof Float32Array)) throw new CheckpointFormatError(field, 'must be an array of numbers');
  if (v.length !== length) throw new CheckpointFormatError(field, `has ${v.length} entries, expected ${length}`);
}

/** Validates one layer given the width of its input; returns the width of its output. */
function checkLayer(layer: TensorLayer, index: number, width: number | undefined): number {
  const label = layerLabel(index, layer);
  switch (layer.type) {
    case 'dense': {
      if (!(layer.inputs >= 1 && layer.units >= 1)) throw new CheckpointFormatError(`${label}.kernel`, 'must be a non-empty array of rows [inputs][units]');
      if (width !== undefined && layer.inputs !== width) {
        throw new CheckpointFormatError(`${label}.kernel`, `has ${layer.inputs} rows, expected ${width} (the width of its input)`);
      }
      checkLength(layer.kernel, `${label}.kernel`, layer.inputs * layer.units);
      checkFinite(layer.kernel, `${label}.kernel`, layer.units);
      if (layer.bias !== undefined) {
        checkLength(layer.bias, `${label}.bias`, layer.units);
        checkFinite(layer.bias, `${label}.bias`);
      }
      return layer.units;
    }
    case 'batchNorm': {
      if (width === undefined) throw new CheckpointFormatError(label, 'the first layer must be dense');
      for (const key of ['gamma', 'beta', 'movingMean', 'movingVariance'] as const) {
        checkLength(layer[key], `${label}.${key}`, width);
        checkFinite(layer[key], `${label}.${key}`);
      }
      const eps = layer.epsilon;
      if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
        throw new CheckpointFormatError(`${label}.epsilon`, `must be a finite number >= 0, got ${String(eps)}`);
      }
      const variance = layer.movingVariance;
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
      if (!ESTIMATORS.has(layer.varianceEstimator)) {
        throw new CheckpointFormatError(`${label}.varianceEstimator`, `must be biased or unbiased, got ${String(layer.varianceEstimator)}`);
      }
      return width;
    }
    case 'activation': {
      if (width === undefined) throw new CheckpointFormatError(label, 'the first layer must be dense');
      if (!ACTIVATIONS.has(layer.fn)) {
        throw new CheckpointFormatError(`${label}.fn`, `unknown activation ${String(layer.fn)} (relu, sigmoid, tanh, linear, softmax)`);
      }
      return width;
    }
    default:
      throw new CheckpointFormatError(`${label}.type`, `unknown layer type ${String((layer as { type: unknown }).type)} (dense, batchNorm, activation)`);
  }
}

/** Throws CheckpointFormatError naming the first problem; returns the input and output widths. */
export function validateCheckpoint(checkpoint: Checkpoint): CheckpointShape {
  if (checkpoint.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointFormatError('format', `expected ${CHECKPOINT_FORMAT}, got ${String(checkpoint.format)}`);
  }
  if (typeof checkpoint.modelId !== 'string') throw new CheckpointFormatError('modelId', 'must be a string');
  if (!Number.isInteger(checkpoint.epoch) || checkpoint.epoch < 1) {
    throw new CheckpointFormatError('epoch', `must be an integer >= 1, got ${String(checkpoint.epoch)}`);
  }
  const { layers } = checkpoint;
  if (!Array.isArray(layers) || layers.length === 0) throw new CheckpointFormatError('layers', 'must be a non-empty array');
  let width: number | undefined;
  layers.forEach((layer, i) => {
    width = checkLayer(layer, i, width);
  });
  const first = layers[0];
  const inputDim = first.type === 'dense' ? first.inputs : 0;
  const outputDim = width as number;
  const spec = checkpoint.spec as Partial<Checkpoint['spec']> | undefined;
  if (typeof spec !== 'object' || spec === null) throw new CheckpointFormatError('spec', 'must be an object');
  if (spec.inputDim !== inputDim) {
    throw new CheckpointFormatError('spec.inputDim', `is ${String(spec.inputDim)} but the first kernel has ${inputDim} rows`);
  }
  if (spec.outputDim !== outputDim) {
    throw new CheckpointFormatError('spec.outputDim', `is ${String(spec.outputDim)} but the last layer has ${outputDim} units`);
  }
  return { inputDim, outputDim };
}
