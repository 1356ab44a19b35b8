// The optimizers of tf.train (sgd, momentum 0.9, adam with its defaults), as one fused loop per
// variable over the training step's arrays (Adam's in adam-wasm.ts): tfjs's Adam issues ~14 wasm ops
// per variable, each a full pass over memory, and was a fifth of a step. The update rules, slot names
// and slot order are those of tfjs 4.22, so training states saved by either resume with the other.
import type { ResolvedTraining } from '../schemas/model-spec.js';
import type { TrainingState } from '../schemas/checkpoint.js';
import { createAdamState, type AdamState } from './adam-wasm.js';
import { SpecError } from './errors.js';
import { stableName, type Network } from './network.js';

type OptimizerName = ResolvedTraining['optimizer'];

/** tf.train.momentum's momentum as the service uses it (no Nesterov) */
export const MOMENTUM = 0.9;

const SLOT_KINDS: Record<OptimizerName, readonly string[]> = { sgd: [], momentum: ['momentum'], adam: ['m', 'v'] };

export interface Optimizer {
  readonly type: OptimizerName;
  /** read by every step: the trainer sets each epoch's rate here (lr-schedule.ts) */
  learningRate: number;
  /** steps taken: tfjs's 'iter' */
  iterations: number;
  /**
   * slots[kind][variable], variables in `net.trainable` order. Empty until the first step, as tfjs
   * creates its slots lazily (a state saved before any step holds the counter only).
   */
  slots: Float32Array[][];
  /** Adam's slots and update, in WebAssembly memory */
  adam?: AdamState;
}

export function createOptimizer(t: ResolvedTraining): Optimizer {
  return { type: t.optimizer, learningRate: t.learningRate, iterations: 0, slots: [] };
}

/**
 * Starts one optimisation step and returns the update of trainable variable q (its `net.trainable`
 * index): it reads the values `w` and the gradient `g` and writes the new values to `out` (may be `w`).
 */
export function optimizerStep(opt: Optimizer, sizes: readonly number[]): (q: number, w: Float32Array, g: Float32Array, out: Float32Array) => void {
  if (opt.slots.length === 0) createSlots(opt, sizes);
  const t = ++opt.iterations;
  const lr = opt.learningRate;
  const adam = opt.adam;
  if (adam) return (q, w, g, out) => adam.update(q, w, g, out, lr, t);
  const [acc] = opt.slots;
  if (opt.type === 'momentum') return (q, w, g, out) => momentum(w, g, out, acc[q], lr);
  return (_q, w, g, out) => sgd(w, g, out, lr);
}

/** Creates the slots (zeros) unless they exist: for engines that keep them elsewhere between syncs. */
export function ensureSlots(opt: Optimizer, sizes: readonly number[]): void {
  if (opt.slots.length === 0) createSlots(opt, sizes);
}

/**
 * Arrays for the trained values and their gradients, one per variable, that optimizerStep's update reads
 * and writes in place without a copy (for Adam: in its WebAssembly memory, beside the moments). Keeps the
 * slots' values, and their absence before a first step.
 */
export function optimizerArrays(opt: Optimizer, sizes: readonly number[]): { params: Float32Array[]; grads: Float32Array[] } {
  if (opt.type !== 'adam') {
    return { params: sizes.map((n) => new Float32Array(n)), grads: sizes.map((n) => new Float32Array(n)) };
  }
  const before = opt.slots;
  opt.adam = createAdamState(sizes, { held: true });
  if (before.length > 0) {
    opt.adam.m.forEach((m, q) => m.set(before[0][q]));
    opt.adam.v.forEach((v, q) => v.set(before[1][q]));
    opt.slots = [opt.adam.m, opt.adam.v];
  }
  return { params: [...opt.adam.held!.w], grads: [...opt.adam.held!.g] };
}

function createSlots(opt: Optimizer, sizes: readonly number[]): void {
  if (opt.type === 'adam') {
    // an engine's arrays already made the state (optimizerArrays): its moments become the slots
    opt.adam ??= createAdamState(sizes);
    opt.slots = [opt.adam.m, opt.adam.v];
  } else {
    opt.slots = SLOT_KINDS[opt.type].map(() => sizes.map((n) => new Float32Array(n)));
  }
}

// The loops get their arrays as arguments: the same loop reading them from a closure ran ~1.8x slower.

/** tfjs, without Nesterov: acc = momentum acc + g; w - lr acc */
function momentum(w: Float32Array, g: Float32Array, out: Float32Array, acc: Float32Array, lr: number): void {
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const s = acc[i] * MOMENTUM + g[i];
    acc[i] = s;
    out[i] = w[i] - lr * s;
  }
}

function sgd(w: Float32Array, g: Float32Array, out: Float32Array, lr: number): void {
  const n = w.length;
  for (let i = 0; i < n; i++) out[i] = w[i] - lr * g[i];
}

/** The slot names after 'iter', in order: every variable's first slot, then every variable's second. */
function slotNames(type: OptimizerName, net: Network): string[] {
  const params = net.trainable.map((v) => stableName(net, v.name));
  return SLOT_KINDS[type].flatMap((kind) => params.map((p) => `${p}/${kind}`));
}

/** The optimizer's state for a checkpoint: the counter and copies of its slots (the step reuses its own). */
export function saveOptimizer(opt: Optimizer, net: Network): TrainingState['optimizer'] {
  const out: TrainingState['optimizer'] = { type: opt.type, iterations: opt.iterations, slots: [] };
  if (opt.slots.length === 0) return out;
  const names = slotNames(opt.type, net);
  opt.slots.flat().forEach((values, i) => {
    const v = net.trainable[i % net.trainable.length];
    out.slots.push({ name: names[i], shape: [...v.shape], values: values.slice() });
  });
  return out;
}

export function restoreOptimizer(opt: Optimizer, net: Network, saved: TrainingState['optimizer']): void {
  if (saved.type !== opt.type) {
    throw new SpecError('resume.state.optimizer', `was saved by ${saved.type}, the training options ask for ${opt.type}`);
  }
  if (!Number.isSafeInteger(saved.iterations) || saved.iterations < 0) {
    throw new SpecError('resume.state.optimizer', 'has no iteration counter');
  }
  opt.iterations = saved.iterations;
  opt.slots = [];
  opt.adam = undefined;
  // before the first step an optimizer has no slots yet; restore the counter only
  if (saved.slots.length === 0) return;
  const byName = new Map(saved.slots.map((w) => [w.name, w]));
  const names = slotNames(opt.type, net);
  const sizes = net.trainable.map((v) => v.size);
  const values = names.map((n, i) => {
    const w = byName.get(n);
    if (!w) throw new SpecError('resume.state.optimizer', `has no slot ${n} for this model`);
    if (w.values.length !== sizes[i % sizes.length]) {
      throw new SpecError('resume.state.optimizer', `slot ${n} does not match the model specification`);
    }
    return w.values;
  });
  createSlots(opt, sizes);
  opt.slots.flat().forEach((slot, i) => slot.set(values[i]));
}
