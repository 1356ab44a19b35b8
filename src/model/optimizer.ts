// Optimizers and their state. tfjs optimizers match their slots to variables BY POSITION in the
// gradient list, so the state is saved under stable names and restored in the network's fixed order.
import * as tf from '@tensorflow/tfjs';
import type { ResolvedTraining } from '../schemas/model-spec.js';
import type { TrainingState } from '../schemas/checkpoint.js';
import { SpecError } from './errors.js';
import { stableName, type NamedTensor, type Network } from './network.js';

export function createOptimizer(t: ResolvedTraining): tf.Optimizer {
  switch (t.optimizer) {
    case 'sgd':
      return tf.train.sgd(t.learningRate);
    case 'momentum':
      return tf.train.momentum(t.learningRate, 0.9);
    case 'adam':
      return tf.train.adam(t.learningRate);
  }
}

/**
 * tfjs 4.22's MomentumOptimizer.dispose() forgets the learning-rate scalar its SGD base class keeps
 * (one tensor leaked per optimizer), so it is freed here.
 */
export function disposeOptimizer(opt: tf.Optimizer): void {
  opt.dispose();
  if (opt instanceof tf.MomentumOptimizer) {
    const c = (opt as unknown as { c?: tf.Tensor }).c;
    if (c && !c.isDisposed) c.dispose();
  }
}

export async function saveOptimizer(opt: tf.Optimizer, net: Network): Promise<TrainingState['optimizer']['weights']> {
  const named = await opt.getWeights();
  const out: TrainingState['optimizer']['weights'] = [];
  for (const w of named) {
    out.push({ name: stableName(net, w.name), shape: [...w.tensor.shape], values: Array.from(await w.tensor.data()) });
    if (w.name === 'iter') w.tensor.dispose(); // a fresh scalar; the others are the optimizer's own variables
  }
  return out;
}

/** The slot names the optimizer expects after 'iter', in order. */
function slotNames(type: ResolvedTraining['optimizer'], net: Network): string[] {
  const params = net.trainable.map((v) => stableName(net, v.name));
  if (type === 'adam') return [...params.map((p) => `${p}/m`), ...params.map((p) => `${p}/v`)];
  if (type === 'momentum') return params.map((p) => `${p}/momentum`);
  return [];
}

export async function restoreOptimizer(
  opt: tf.Optimizer,
  type: ResolvedTraining['optimizer'],
  net: Network,
  saved: TrainingState['optimizer'],
): Promise<void> {
  if (saved.type !== type) {
    throw new SpecError('resume.state.optimizer', `was saved by ${saved.type}, the training options ask for ${type}`);
  }
  const byName = new Map(saved.weights.map((w) => [w.name, w]));
  const iter = byName.get('iter');
  if (!iter) throw new SpecError('resume.state.optimizer', 'has no iteration counter');
  const slots = slotNames(type, net);
  // before the first step an optimizer has no slots yet; restore the counter only
  const present = saved.weights.length > 1 ? slots : [];
  const missing = present.find((n) => !byName.has(n));
  if (missing) throw new SpecError('resume.state.optimizer', `has no slot ${missing} for this model`);
  const tensors: NamedTensor[] = [{ name: 'iter', tensor: tf.scalar(iter.values[0], 'int32') }];
  for (const n of present) {
    const w = byName.get(n)!;
    tensors.push({ name: `${net.prefix}/${n}`, tensor: tf.tensor(w.values, w.shape, 'float32') });
  }
  try {
    await opt.setWeights(tensors);
  } finally {
    tf.dispose(tensors.map((t) => t.tensor)); // the optimizer keeps its own variables (refcounted copies)
  }
}
