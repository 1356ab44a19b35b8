// The frozen inference contract: a checkpoint (its tensors as Float32Arrays) in, predictions out, in
// inference mode only.
// Implementations must not need a training backend; a faster engine may replace the default one.
import type { Checkpoint } from '../checkpoint/checkpoint.js';

export interface BatchNormTrace {
  name: string;
  /** input of the BN layer */
  h: number[];
  /** (h - movingMean) / sqrt(movingVariance + epsilon) */
  hhat: number[];
  /** gamma * hhat + beta */
  r: number[];
}

export interface Explanation {
  y: number[];
  batchNorm: BatchNormTrace[];
}

/** Async because an engine may run on a native runtime; the plain-TypeScript ones answer in one microtask. */
export interface FrozenModel {
  /** Which engine computes this model's predictions (auto picks one per model). */
  readonly engine: string;
  readonly modelId: string;
  readonly epoch: number;
  readonly inputDim: number;
  readonly outputDim: number;
  /** One row of outputs per input row; rows are independent of one another. */
  predict(rows: readonly (readonly number[])[]): Promise<number[][]>;
  predictOne(x: readonly number[]): Promise<number[]>;
  explain(x: readonly number[]): Promise<Explanation>;
}

export interface InferenceEngine {
  readonly name: string;
  load(checkpoint: Checkpoint): Promise<FrozenModel>;
}
