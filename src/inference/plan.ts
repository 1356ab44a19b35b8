// A compiled forward pass: flat typed arrays prepared once at load time, so that a prediction only runs
// loops over contiguous memory. The document itself is only read, never kept or mutated.
import type { ActivationLayer } from '../schemas/checkpoint.js';

export type ActivationFn = ActivationLayer['fn'];

export interface DenseStep {
  kind: 'dense';
  inDim: number;
  outDim: number;
  /** Kernel transposed to [units][inputs]: each output is a dot product over one contiguous row. */
  weights: Float64Array;
  /** Zeros when the layer has no bias (adding +0 changes no sum). */
  bias: Float64Array;
}

/** BN as written: hhat = (h - mean) / denom, r = gamma * hhat + beta, denom = sqrt(var + eps). */
export interface BatchNormStep {
  kind: 'batchNorm';
  name: string;
  mean: Float64Array;
  denom: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
}

/** A BN that could not be folded into a Dense (it follows an activation): r = h * scale + shift. */
export interface AffineStep {
  kind: 'affine';
  scale: Float64Array;
  shift: Float64Array;
}

export interface ActivationStep {
  kind: 'activation';
  fn: Exclude<ActivationFn, 'linear'>;
}

export type Step = DenseStep | BatchNormStep | AffineStep | ActivationStep;

export interface Plan {
  inputDim: number;
  outputDim: number;
  /** Widest vector any step produces or reads: sizes the scratch buffers. */
  maxWidth: number;
  steps: Step[];
}

export function planShape(steps: Step[], inputDim: number): Plan {
  let maxWidth = inputDim;
  let width = inputDim;
  for (const step of steps) {
    if (step.kind === 'dense') {
      width = step.outDim;
      maxWidth = Math.max(maxWidth, width);
    }
  }
  return { inputDim, outputDim: width, maxWidth, steps };
}
