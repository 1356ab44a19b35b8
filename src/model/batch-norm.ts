// Batch Normalization over the rows of a [m, k] batch (seed 002 / DESIGN.md section 1).
import * as tf from '@tensorflow/tfjs';
import { colSum } from './ops.js';

export interface BnParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  movingMean: tf.Variable;
  movingVariance: tf.Variable;
}

export interface BnTrainOutput {
  r: tf.Tensor2D;
  hhat: tf.Tensor2D;
  /** 1 / sqrt(var_B + eps), [k] */
  invStd: tf.Tensor1D;
  mean: tf.Tensor1D;
  /** biased batch variance, [k] */
  variance: tf.Tensor1D;
}

/** Training mode: normalise with the batch mean and the BIASED batch variance. */
export function bnForwardTrain(h: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BnTrainOutput {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(h, 0);
    const invStd = tf.rsqrt(tf.add(variance, epsilon)) as tf.Tensor1D;
    const hhat = tf.mul(tf.sub(h, mean), invStd) as tf.Tensor2D;
    const r = tf.add(tf.mul(hhat, gamma), beta) as tf.Tensor2D;
    return { r, hhat, invStd, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  });
}

/** Inference mode: the frozen moving statistics replace the batch statistics; nothing is updated. */
export function bnForwardInfer(h: tf.Tensor2D, p: BnParams, epsilon: number): tf.Tensor2D {
  return tf.tidy(() => {
    const scale = tf.mul(tf.rsqrt(tf.add(p.movingVariance, epsilon)), p.gamma);
    return tf.add(tf.mul(tf.sub(h, p.movingMean), scale), p.beta) as tf.Tensor2D;
  });
}

export interface BnGrads {
  dh: tf.Tensor2D;
  dgamma: tf.Tensor1D;
  dbeta: tf.Tensor1D;
}

/**
 * Seed 002's closed form, with its three terms collected (they are algebraically identical):
 *   dl/dgamma = sum_i dy_i hhat_i,  dl/dbeta = sum_i dy_i,
 *   dl/dh_i   = gamma * invStd / m * (m dy_i - dl/dbeta - hhat_i dl/dgamma).
 * The collected form needs two column sums instead of four and no (h - mu) tensor.
 */
export function bnBackward(dy: tf.Tensor2D, hhat: tf.Tensor2D, invStd: tf.Tensor1D, gamma: tf.Tensor1D): BnGrads {
  return tf.tidy(() => {
    const m = dy.shape[0];
    const dbeta = colSum(dy);
    const dgamma = colSum(tf.mul(dy, hhat) as tf.Tensor2D);
    const scale = tf.mul(gamma, tf.div(invStd, m));
    const inner = tf.sub(tf.sub(tf.mul(dy, m), dbeta), tf.mul(hhat, dgamma));
    const dh = tf.mul(inner, scale) as tf.Tensor2D;
    return { dh, dgamma, dbeta };
  });
}

/**
 * mu <- rho mu + (1 - rho) mu_B; var <- rho var + (1 - rho) v, v the biased batch variance or, for
 * the unbiased estimator, m/(m-1) times it (left biased for a batch of one row, where it is undefined).
 */
export function updateMovingStats(
  p: BnParams,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  m: number,
  momentum: number,
  estimator: 'biased' | 'unbiased',
): void {
  tf.tidy(() => {
    const v = estimator === 'unbiased' && m > 1 ? tf.mul(variance, m / (m - 1)) : variance;
    p.movingMean.assign(tf.add(tf.mul(p.movingMean, momentum), tf.mul(mean, 1 - momentum)));
    p.movingVariance.assign(tf.add(tf.mul(p.movingVariance, momentum), tf.mul(v, 1 - momentum)));
  });
}
