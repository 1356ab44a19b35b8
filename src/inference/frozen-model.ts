// A loaded checkpoint: predicts with `plan` and explains with `explainPlan` (always the direct one, so
// the trace shows h, hhat and r exactly as the BN formula defines them, whatever the engine folded).
import type { CheckpointDocument } from '../schemas/checkpoint.js';
import type { Explanation, FrozenModel } from './types.js';
import type { Plan } from './plan.js';
import { createScratch, loadRow, runPlan } from './run-plan.js';

export function createFrozenModel(doc: CheckpointDocument, plan: Plan, explainPlan: Plan): FrozenModel {
  const { inputDim, outputDim } = plan;
  const scratch = createScratch(plan);
  const explainScratch = explainPlan === plan ? scratch : createScratch(explainPlan);

  const forward = (x: readonly number[], label: string): number[] => {
    loadRow(x, scratch.a, inputDim, label);
    return Array.from(runPlan(plan, scratch).subarray(0, outputDim));
  };

  return Object.freeze({
    modelId: doc.modelId,
    epoch: doc.epoch,
    inputDim,
    outputDim,
    predictOne: (x: readonly number[]) => forward(x, 'x'),
    // Each row runs alone through the same code as predictOne: no batch statistics, identical bits.
    predict: (rows: readonly (readonly number[])[]) => {
      if (!Array.isArray(rows)) throw new RangeError('rows: must be an array of rows');
      const out: number[][] = new Array(rows.length);
      for (let r = 0; r < rows.length; r++) out[r] = forward(rows[r], `rows[${r}]`);
      return out;
    },
    // y is this engine's own prediction, so that explain and predict never disagree by a rounding.
    explain: (x: readonly number[]): Explanation => {
      const batchNorm: Explanation['batchNorm'] = [];
      loadRow(x, explainScratch.a, inputDim, 'x');
      const traced = runPlan(explainPlan, explainScratch, batchNorm);
      // The direct engine's traced run is its prediction; a folded engine predicts with its own plan.
      const y = explainPlan === plan ? Array.from(traced.subarray(0, outputDim)) : forward(x, 'x');
      return { y, batchNorm };
    },
  });
}
