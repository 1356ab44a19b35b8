// The real folded engine, wrapped to count its loads of one model, hold them while a gate is set, or make
// them unservable (fault injection around the component under test, the model cache, which stays real).
import { createFoldedEngine } from '../../src/inference/index.js';
import type { FrozenModel, InferenceEngine } from '../../src/inference/types.js';
import type { Checkpoint } from '../../src/checkpoint/checkpoint.js';

export interface CountingState {
  loads: number;
  /** loads started and not finished */
  active: number;
  maxActive: number;
  /** while set, loads wait for it */
  gate: Promise<void> | undefined;
  /** loaded models answer NaN or throw (only those of brokenEpoch, when set) */
  broken: 'nan' | 'throw' | undefined;
  brokenEpoch: number | undefined;
}

export function countingEngine(modelId: string): { engine: InferenceEngine; state: CountingState } {
  const folded = createFoldedEngine();
  const state: CountingState = { loads: 0, active: 0, maxActive: 0, gate: undefined, broken: undefined, brokenEpoch: undefined };
  const engine: InferenceEngine = {
    name: 'counting',
    async load(doc: Checkpoint): Promise<FrozenModel> {
      if (doc.modelId !== modelId) return folded.load(doc); // the engine's own readiness probe network
      state.loads++;
      state.active++;
      state.maxActive = Math.max(state.maxActive, state.active);
      try {
        if (state.gate) await state.gate;
        const model = await folded.load(doc);
        if (state.broken === undefined || (state.brokenEpoch !== undefined && state.brokenEpoch !== doc.epoch)) return model;
        if (state.broken === 'nan') return { ...model, predictOne: async () => new Array(model.outputDim).fill(NaN) };
        return { ...model, predictOne: async () => { throw new Error('session run failed'); } };
      } finally {
        state.active--;
      }
    },
  };
  return { engine, state };
}

/** A gate for CountingState.gate and the function that opens it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
