// Fast engine: each BN that follows a Dense is folded into its weights, so a BN costs nothing at
// prediction time; explain() still runs the direct plan.
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { FrozenModel, InferenceEngine } from './types.js';
import { validateCheckpoint } from './validate-checkpoint.js';
import { compileDirect, compileFolded } from './compile-plan.js';
import { createFrozenModel } from './frozen-model.js';

export function createFoldedEngine(): InferenceEngine {
  return {
    name: 'folded',
    async load(doc: Checkpoint): Promise<FrozenModel> {
      const { inputDim } = validateCheckpoint(doc);
      return createFrozenModel('folded', doc, compileFolded(doc.layers, inputDim), compileDirect(doc.layers, inputDim));
    },
  };
}
