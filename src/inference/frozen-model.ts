// A loaded checkpoint: predicts with `plan` and explains with `explainPlan` (always the direct one, so
// the trace shows h, hhat and r exactly as the BN formula defines them, whatever the engine folded).
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { Explanation, FrozenModel } from './types.js';
import type { Plan } from './plan.js';
import { createScratch, loadRow, runPlan } from './run-plan.js';

/** explain() of every engine: the direct plan traced on one row; y comes from the engine's own predictOne. */
export function createExplainer(explainPlan: Plan): (x: readonly number[]) => Explanation {
  const scratch = createScratch(explainPlan);
  return (x) => {
    const batchNorm: Explanation['batchNorm'] = [];
    loadRow(x, scratch.a, explainPlan.inputDim, 'x');
    const y = Array.from(runPlan(explainPlan, scratch, batchNorm).subarray(0, explainPlan.outputDim));
    return { y, batchNorm };
  };
}

export function createFrozenModel(engine: string, doc: Checkpoint, plan: Plan, explainPlan: Plan): FrozenModel {
  const { inputDim, outputDim } = plan;
  const scratch = createScratch(plan);
  const trace = createExplainer(explainPlan);

  // Synchronous: JS runs one forward at a time, so the shared scratch buffers are safe.
  const forward = (x: readonly number[], label: string): number[] => {
    loadRow(x, scratch.a, inputDim, label);
    return Array.from(runPlan(plan, scratch).subarray(0, outputDim));
  };

  return Object.freeze({
    engine,
    modelId: doc.modelId,
    epoch: doc.epoch,
    inputDim,
    outputDim,
    predictOne: async (x: readonly number[]) => forward(x, 'x'),
    // Each row runs alone through the same code as predictOne: no batch statistics, identical bits.
    predict: async (rows: readonly (readonly number[])[]) => {
      if (!Array.isArray(rows)) throw new RangeError('rows: must be an array of rows');
      const out: number[][] = new Array(rows.length);
      for (let r = 0; r < rows.length; r++) out[r] = forward(rows[r], `rows[${r}]`);
      return out;
    },
    // y is this engine's own prediction, so that explain and predict never disagree by a rounding.
    explain: async (x: readonly number[]): Promise<Explanation> => {
      const traced = trace(x);
      return explainPlan === plan ? traced : { y: forward(x, 'x'), batchNorm: traced.batchNorm };
    },
  });
}
