// Reference engine: applies every layer as written, BN from the frozen moving statistics.
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { FrozenModel, InferenceEngine } from './types.js';
import { validateCheckpoint } from './validate-checkpoint.js';
import { compileDirect } from './compile-plan.js';
import { createFrozenModel } from './frozen-model.js';

export function createDirectEngine(): InferenceEngine {
  return {
    name: 'direct',
    async load(doc: Checkpoint): Promise<FrozenModel> {
      const { inputDim } = validateCheckpoint(doc);
      const plan = compileDirect(doc.layers, inputDim);
      return createFrozenModel('direct', doc, plan, plan);
    },
  };
}
