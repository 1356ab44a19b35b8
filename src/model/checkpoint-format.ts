// Network <-> checkpoint layers ('bn-checkpoint/v1'). Values are the float32 numbers as JS numbers, so
// a JSON round trip is bit-identical, and restoring them gives back exactly the same variables.
import * as tf from '@tensorflow/tfjs';
import type { BatchNormLayer, CheckpointLayer, DenseLayer } from '../schemas/checkpoint.js';
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

function rows(values: Float32Array, cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < values.length; i += cols) out.push(Array.from(values.subarray(i, i + cols)));
  return out;
}

function get(s: Snapshot, name: string): Float32Array {
  const v = s.get(name);
  if (!v) throw new Error(`internal: no variable ${name}`);
  return v;
}

/** Every transform of a prediction, in forward order. */
export function toLayers(net: Network, s: Snapshot): CheckpointLayer[] {
  const { batchNorm, activation, task } = net.spec;
  const layers: CheckpointLayer[] = [];
  for (const l of net.hidden) {
    const d: DenseLayer = { type: 'dense', name: l.denseName, kernel: rows(get(s, `${l.denseName}/kernel`), l.units) };
    if (l.bias) d.bias = Array.from(get(s, `${l.denseName}/bias`));
    const act: CheckpointLayer = { type: 'activation', name: l.activationName, fn: activation };
    if (!l.bn) {
      layers.push(d, act);
      continue;
    }
    const bn: BatchNormLayer = {
      type: 'batchNorm',
      name: l.bnName,
      gamma: Array.from(get(s, `${l.bnName}/gamma`)),
      beta: Array.from(get(s, `${l.bnName}/beta`)),
      movingMean: Array.from(get(s, `${l.bnName}/moving_mean`)),
      movingVariance: Array.from(get(s, `${l.bnName}/moving_variance`)),
      epsilon: batchNorm.epsilon,
      momentum: batchNorm.momentum,
      varianceEstimator: batchNorm.varianceEstimator,
    };
    layers.push(...(batchNorm.placement === 'before-activation' ? [d, bn, act] : [d, act, bn]));
  }
  layers.push(
    { type: 'dense', name: 'dense_out', kernel: rows(get(s, 'dense_out/kernel'), net.spec.outputDim), bias: Array.from(get(s, 'dense_out/bias')) },
    { type: 'activation', name: 'activation_out', fn: outputActivation(task) },
  );
  return layers;
}

/** The variables' values by stable name, read from checkpoint layers. */
export function fromLayers(layers: readonly CheckpointLayer[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const l of layers) {
    if (l.type === 'dense') {
      out.set(`${l.name}/kernel`, l.kernel.flat());
      if (l.bias) out.set(`${l.name}/bias`, l.bias);
    } else if (l.type === 'batchNorm') {
      out.set(`${l.name}/gamma`, l.gamma);
      out.set(`${l.name}/beta`, l.beta);
      out.set(`${l.name}/moving_mean`, l.movingMean);
      out.set(`${l.name}/moving_variance`, l.movingVariance);
    }
  }
  return out;
}

/** Assigns checkpoint values to the network's variables; the shapes must match the spec exactly. */
export function restoreVariables(vars: Map<string, tf.Variable>, layers: readonly CheckpointLayer[]): void {
  const values = fromLayers(layers);
  for (const [name, v] of vars) {
    const vals = values.get(name);
    if (!vals || vals.length !== v.size) {
      throw new SpecError('resume.checkpoint.layers', `${name} is missing or does not match the model specification`);
    }
    tf.tidy(() => v.assign(tf.tensor(vals, v.shape, 'float32')));
  }
}
