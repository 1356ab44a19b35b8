// The frozen inference contract: a checkpoint document in, predictions out, in inference mode only.
// Implementations must not need a training backend; a faster engine may replace the default one.
import type { CheckpointDocument } from '../schemas/checkpoint.js';

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

export interface FrozenModel {
  readonly modelId: string;
  readonly epoch: number;
  readonly inputDim: number;
  readonly outputDim: number;
  /** One row of outputs per input row; rows are independent of one another. */
  predict(rows: readonly (readonly number[])[]): number[][];
  predictOne(x: readonly number[]): number[];
  explain(x: readonly number[]): Explanation;
}

export interface InferenceEngine {
  readonly name: string;
  load(doc: CheckpointDocument): FrozenModel;
}
