// A checkpoint in memory: the checkpoint document's fields with every tensor as a Float32Array (the
// values training produced), never as nested number arrays. Training writes it, the store keeps it in
// binary, inference compiles it, and the API turns it into the document users read (document.ts).
// Nothing here imports a training backend.
import type { ActivationLayer, CheckpointDocument } from '../schemas/checkpoint.js';

export interface DenseTensors {
  type: 'dense';
  name: string;
  inputs: number;
  units: number;
  /** row-major [inputs][units]: h = x . kernel (+ bias) */
  kernel: Float32Array;
  /** absent when a BN layer follows (beta plays its role) */
  bias?: Float32Array;
}

export interface BatchNormTensors {
  type: 'batchNorm';
  name: string;
  gamma: Float32Array;
  beta: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
  epsilon: number;
  momentum: number;
  varianceEstimator: 'biased' | 'unbiased';
}

export type TensorLayer = DenseTensors | BatchNormTensors | ActivationLayer;

/** Everything of a checkpoint document but its layers. */
export type CheckpointMeta = Omit<CheckpointDocument, 'layers'>;

export interface Checkpoint extends CheckpointMeta {
  layers: TensorLayer[];
}

/** The tensor fields of each layer type, in document order, with the names TF.js gives the weights. */
export const TENSOR_FIELDS = {
  dense: [
    ['kernel', 'kernel'],
    ['bias', 'bias'],
  ],
  batchNorm: [
    ['gamma', 'gamma'],
    ['beta', 'beta'],
    ['movingMean', 'moving_mean'],
    ['movingVariance', 'moving_variance'],
  ],
} as const;

export interface NamedTensor {
  /** `<layer name>/<weight>`, as TF.js names the weights of a layers model (dense_0/kernel, batch_norm_0/moving_mean) */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Every tensor of the checkpoint in layer order, named as TF.js names them. */
export function namedTensors(layers: readonly TensorLayer[]): NamedTensor[] {
  const out: NamedTensor[] = [];
  for (const layer of layers) {
    if (layer.type === 'dense') {
      out.push({ name: `${layer.name}/kernel`, shape: [layer.inputs, layer.units], values: layer.kernel });
      if (layer.bias) out.push({ name: `${layer.name}/bias`, shape: [layer.units], values: layer.bias });
    } else if (layer.type === 'batchNorm') {
      for (const [field, weight] of TENSOR_FIELDS.batchNorm) {
        out.push({ name: `${layer.name}/${weight}`, shape: [layer[field].length], values: layer[field] });
      }
    }
  }
  return out;
}

/** Bytes of all tensors (float32). */
export function tensorBytes(layers: readonly TensorLayer[]): number {
  return namedTensors(layers).reduce((n, t) => n + t.values.byteLength, 0);
}

/** The meta fields in the order the document lists them (JSON key order is part of what users get). */
export function checkpointMeta(c: CheckpointMeta): CheckpointMeta {
  return {
    format: c.format,
    modelId: c.modelId,
    epoch: c.epoch,
    createdAt: c.createdAt,
    backend: c.backend,
    spec: c.spec,
    training: c.training,
    metrics: c.metrics,
    ...(c.bnStatistics !== undefined && { bnStatistics: c.bnStatistics }),
  };
}
