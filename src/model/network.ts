// The network's variables and its inference forward pass (the training step is in train-step.ts).
// Layout per hidden layer (see the spec): before-activation: Dense(no bias) -> BN -> act;
// after-activation: Dense(bias) -> act -> BN; no BN: Dense(bias) -> act. Output: Dense(bias) -> logits.
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../schemas/model-spec.js';
import { createPrng } from '../util/prng.js';
import { activate } from './activations.js';
import { bnForwardInfer, type BnParams } from './batch-norm.js';

export interface HiddenLayer {
  /** stable names used in checkpoints and artifacts */
  denseName: string;
  bnName: string;
  activationName: string;
  units: number;
  kernel: tf.Variable;
  bias?: tf.Variable;
  bn?: BnParams;
}

export interface Network {
  spec: ModelSpec;
  /** unique per instance: tfjs variable names are global to the engine */
  prefix: string;
  hidden: HiddenLayer[];
  outKernel: tf.Variable;
  outBias: tf.Variable;
  /** trainable variables in a fixed order (optimizer state is matched by position) */
  trainable: tf.Variable[];
}

let instances = 0;

/** Initial kernel values: glorot-uniform limit sqrt(6/(fan_in+fan_out)) or uniform(min, max). */
export function initialKernels(spec: ModelSpec): Float32Array[] {
  const prng = createPrng(spec.weightInit.seed);
  const dims = [spec.inputDim, ...spec.hidden, spec.outputDim];
  const out: Float32Array[] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const fanIn = dims[l];
    const fanOut = dims[l + 1];
    const [lo, hi] =
      spec.weightInit.method === 'uniform'
        ? [spec.weightInit.min, spec.weightInit.max]
        : [-Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut))];
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = prng.uniform(lo, hi);
    out.push(w);
  }
  return out;
}

export function hasBias(spec: ModelSpec): boolean {
  return !(spec.batchNorm.enabled && spec.batchNorm.placement === 'before-activation');
}

export function createNetwork(spec: ModelSpec): Network {
  const prefix = `bnnet${++instances}_${process.pid}`;
  // the initial value is made inside the tidy so that only the variable survives
  const v = (name: string, values: () => tf.Tensor, trainable: boolean): tf.Variable =>
    tf.tidy(() => tf.variable(values(), trainable, `${prefix}/${name}`));
  const kernels = initialKernels(spec);
  const dims = [spec.inputDim, ...spec.hidden];
  const trainable: tf.Variable[] = [];
  const hidden = spec.hidden.map((units, i): HiddenLayer => {
    const layer: HiddenLayer = {
      denseName: `dense_${i}`,
      bnName: `batch_norm_${i}`,
      activationName: `activation_${i}`,
      units,
      kernel: v(`dense_${i}/kernel`, () => tf.tensor2d(kernels[i], [dims[i], units]), true),
    };
    trainable.push(layer.kernel);
    if (hasBias(spec)) trainable.push((layer.bias = v(`dense_${i}/bias`, () => tf.zeros([units]), true)));
    if (spec.batchNorm.enabled) {
      layer.bn = {
        gamma: v(`batch_norm_${i}/gamma`, () => tf.ones([units]), true),
        beta: v(`batch_norm_${i}/beta`, () => tf.zeros([units]), true),
        movingMean: v(`batch_norm_${i}/moving_mean`, () => tf.zeros([units]), false),
        movingVariance: v(`batch_norm_${i}/moving_variance`, () => tf.ones([units]), false),
      };
      trainable.push(layer.bn.gamma, layer.bn.beta);
    }
    return layer;
  });
  const last = spec.hidden[spec.hidden.length - 1];
  const outKernel = v('dense_out/kernel', () => tf.tensor2d(kernels[kernels.length - 1], [last, spec.outputDim]), true);
  const outBias = v('dense_out/bias', () => tf.zeros([spec.outputDim]), true);
  trainable.push(outKernel, outBias);
  return { spec, prefix, hidden, outKernel, outBias, trainable };
}

/** Every variable (trainable and moving statistics) by its stable name. */
export function namedVariables(net: Network): Map<string, tf.Variable> {
  const map = new Map<string, tf.Variable>();
  const stable = (v: tf.Variable) => v.name.slice(net.prefix.length + 1);
  for (const l of net.hidden) {
    for (const v of [l.kernel, l.bias, l.bn?.gamma, l.bn?.beta, l.bn?.movingMean, l.bn?.movingVariance]) {
      if (v) map.set(stable(v), v);
    }
  }
  map.set(stable(net.outKernel), net.outKernel);
  map.set(stable(net.outBias), net.outBias);
  return map;
}

export function stableName(net: Network, variableName: string): string {
  return variableName.startsWith(`${net.prefix}/`) ? variableName.slice(net.prefix.length + 1) : variableName;
}

export function disposeNetwork(net: Network): void {
  for (const v of namedVariables(net).values()) v.dispose();
}

function dense(x: tf.Tensor2D, kernel: tf.Tensor, bias?: tf.Tensor): tf.Tensor2D {
  const z = tf.matMul(x, kernel) as tf.Tensor2D;
  return bias ? (tf.add(z, bias) as tf.Tensor2D) : z;
}

/** Hidden layer `l` in inference mode (frozen moving statistics); `bnInput`: stop at its BN layer's input. */
function hiddenInfer(net: Network, a: tf.Tensor2D, l: HiddenLayer, bnInput = false): tf.Tensor2D {
  const { activation, batchNorm } = net.spec;
  const z = dense(a, l.kernel, l.bias);
  if (!l.bn) return activate(activation, z);
  if (batchNorm.placement === 'before-activation') return bnInput ? z : activate(activation, bnForwardInfer(z, l.bn, batchNorm.epsilon));
  const h = activate(activation, z);
  return bnInput ? h : bnForwardInfer(h, l.bn, batchNorm.epsilon);
}

/** Inference forward pass (frozen moving statistics): returns the logits. */
export function forwardInfer(net: Network, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    let a = x;
    for (const l of net.hidden) a = hiddenInfer(net, a, l);
    return dense(a, net.outKernel, net.outBias);
  });
}

/** What hidden layer `index`'s BN layer receives in inference mode, every layer below it frozen. */
export function bnInputInfer(net: Network, x: tf.Tensor2D, index: number): tf.Tensor2D {
  return tf.tidy(() => {
    let a = x;
    for (let i = 0; i < index; i++) a = hiddenInfer(net, a, net.hidden[i]);
    return hiddenInfer(net, a, net.hidden[index], true);
  });
}
