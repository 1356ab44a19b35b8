// Network <-> checkpoint layers. The layers hold the variables' float32 values as Float32Arrays (no
// nested number arrays: a checkpoint at the largest size the limits allow stays a few typed arrays), and
// restoring them gives back exactly the same variables.
import * as tf from '@tensorflow/tfjs';
import type { BatchNormTensors, DenseTensors, TensorLayer } from '../checkpoint/checkpoint.js';
import { namedTensors } from '../checkpoint/checkpoint.js';
import { SpecError } from './errors.js';
import { outputActivation } from './losses.js';
import type { Network } from './network.js';

/** A snapshot of every variable's values by stable name, read once per checkpoint. */
export type Snapshot = Map<string, Float32Array>;

export async function snapshot(vars: Map<string, tf.Variable>): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const [name, v] of vars) out.set(name, (await v.data()) as Float32Array);
  return out;
}

function get(s: Snapshot, name: string): Float32Array {
  const v = s.get(name);
  if (!v) throw new Error(`internal: no variable ${name}`);
  return v;
}

/** Every transform of a prediction, in forward order. */
export function toLayers(net: Network, s: Snapshot): TensorLayer[] {
  const { batchNorm, activation, task } = net.spec;
  const layers: TensorLayer[] = [];
  let inputs = net.spec.inputDim;
  for (const l of net.hidden) {
    const d: DenseTensors = { type: 'dense', name: l.denseName, inputs, units: l.units, kernel: get(s, `${l.denseName}/kernel`) };
    if (l.bias) d.bias = get(s, `${l.denseName}/bias`);
    inputs = l.units;
    const act: TensorLayer = { type: 'activation', name: l.activationName, fn: activation };
    if (!l.bn) {
      layers.push(d, act);
      continue;
    }
    const bn: BatchNormTensors = {
      type: 'batchNorm',
      name: l.bnName,
      gamma: get(s, `${l.bnName}/gamma`),
      beta: get(s, `${l.bnName}/beta`),
      movingMean: get(s, `${l.bnName}/moving_mean`),
      movingVariance: get(s, `${l.bnName}/moving_variance`),
      epsilon: batchNorm.epsilon,
      momentum: batchNorm.momentum,
      varianceEstimator: batchNorm.varianceEstimator,
    };
    layers.push(...(batchNorm.placement === 'before-activation' ? [d, bn, act] : [d, act, bn]));
  }
  layers.push(
    { type: 'dense', name: 'dense_out', inputs, units: net.spec.outputDim, kernel: get(s, 'dense_out/kernel'), bias: get(s, 'dense_out/bias') },
    { type: 'activation', name: 'activation_out', fn: outputActivation(task) },
  );
  return layers;
}

/** Assigns checkpoint values to the network's variables; the shapes must match the spec exactly. */
export function restoreVariables(vars: Map<string, tf.Variable>, layers: readonly TensorLayer[]): void {
  const values = new Map(namedTensors(layers).map((t) => [t.name, t.values]));
  for (const [name, v] of vars) {
    const vals = values.get(name);
    if (!vals || vals.length !== v.size) {
      throw new SpecError('resume.checkpoint.layers', `${name} is missing or does not match the model specification`);
    }
    tf.tidy(() => v.assign(tf.tensor(vals, v.shape, 'float32')));
  }
}
