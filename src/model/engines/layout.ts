// The network as the training engines see it: its dense layers in order (the hidden ones, then the
// output layer), each with the positions of its variables in `net.trainable`.
import type * as tf from '@tensorflow/tfjs';
import type { Network } from '../network.js';

export interface DenseLayout {
  fanIn: number;
  units: number;
  /** index in net.trainable of the kernel [fanIn, units] */
  kernel: number;
  /** index in net.trainable of the bias (absent before BN) */
  bias?: number;
  /** the BN layer after this dense layer (hidden layers with BN only) */
  bn?: { gamma: number; beta: number; movingMean: tf.Variable; movingVariance: tf.Variable };
}

export function denseLayout(net: Network): DenseLayout[] {
  const at = (v: tf.Variable) => net.trainable.indexOf(v);
  const hidden = net.hidden.map((l): DenseLayout => ({
    fanIn: l.kernel.shape[0],
    units: l.units,
    kernel: at(l.kernel),
    bias: l.bias && at(l.bias),
    bn: l.bn && { gamma: at(l.bn.gamma), beta: at(l.bn.beta), movingMean: l.bn.movingMean, movingVariance: l.bn.movingVariance },
  }));
  return [...hidden, { fanIn: net.outKernel.shape[0], units: net.spec.outputDim, kernel: at(net.outKernel), bias: at(net.outBias) }];
}

/** Multiply-adds of one row's forward pass (the kernels; everything else is linear in the units). */
export function trainMultiplyAdds(net: Network): number {
  return denseLayout(net).reduce((s, l) => s + l.fanIn * l.units, 0);
}
