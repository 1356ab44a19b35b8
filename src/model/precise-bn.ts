// Precise BN statistics: after training, every BN layer's population mean and variance recomputed
// with the final weights over the training rows, instead of the exponential moving averages, which
// average batch statistics of weights that kept changing (Wu & Johnson, "Rethinking 'Batch' in
// BatchNorm", 2021, call this PreciseBN). Layer by layer from the input up: the statistics of layer l
// are measured with every layer below it already in inference mode with ITS recomputed statistics,
// which is exactly the network that will serve predictions.
import * as tf from '@tensorflow/tfjs';
import { activate } from './activations.js';
import { bnForwardInfer } from './batch-norm.js';
import { rowsTensor, type Packed } from './data.js';
import type { HiddenLayer, Network } from './network.js';

const CHUNK_ROWS = 4096;

export interface PopulationStats {
  mean: Float64Array;
  /** biased (1/n) or unbiased (1/(n-1)), as the model's varianceEstimator says */
  variance: Float64Array;
}

/** The input of hidden layer l's BN for the rows in x (x: the network's input). */
function bnInput(net: Network, x: tf.Tensor2D, l: number): tf.Tensor2D {
  const { activation, batchNorm } = net.spec;
  const before = batchNorm.placement === 'before-activation';
  const dense = (a: tf.Tensor2D, layer: HiddenLayer): tf.Tensor2D => {
    const z = tf.matMul(a, layer.kernel) as tf.Tensor2D;
    return layer.bias ? (tf.add(z, layer.bias) as tf.Tensor2D) : z;
  };
  let a = x;
  for (let i = 0; ; i++) {
    const layer = net.hidden[i];
    const h = before ? dense(a, layer) : activate(activation, dense(a, layer));
    if (i === l) return h;
    if (!layer.bn) a = before ? activate(activation, h) : h;
    else a = before ? activate(activation, bnForwardInfer(h, layer.bn, batchNorm.epsilon)) : bnForwardInfer(h, layer.bn, batchNorm.epsilon);
  }
}

/**
 * Measures every BN layer over all rows of `rows` and writes the results into its moving statistics
 * (the network's variables). Per chunk the mean and the sum of squared deviations are computed on the
 * backend; chunks are merged in float64 (Chan et al.'s pairwise update), so no sum of squares of large
 * values loses the variance to cancellation.
 */
export function recomputeBnStatistics(net: Network, rows: Packed): PopulationStats[] {
  const unbiased = net.spec.batchNorm.varianceEstimator === 'unbiased';
  const out: PopulationStats[] = [];
  net.hidden.forEach((layer, l) => {
    if (!layer.bn) return;
    const units = layer.units;
    const mean = new Float64Array(units);
    const m2 = new Float64Array(units);
    let count = 0;
    for (let from = 0; from < rows.n; from += CHUNK_ROWS) {
      const to = Math.min(rows.n, from + CHUNK_ROWS);
      const nb = to - from;
      const [chunkMean, chunkM2] = tf.tidy(() => {
        const h = bnInput(net, rowsTensor(rows, from, to), l);
        const mu = tf.mean(h, 0);
        const dev = tf.sum(tf.square(tf.sub(h, mu)), 0);
        return [mu.dataSync(), dev.dataSync()];
      });
      const n = count + nb;
      for (let j = 0; j < units; j++) {
        const delta = chunkMean[j] - mean[j];
        mean[j] += (delta * nb) / n;
        m2[j] += chunkM2[j] + (delta * delta * count * nb) / n;
      }
      count = n;
    }
    const variance = m2.map((v) => v / (unbiased && count > 1 ? count - 1 : count));
    tf.tidy(() => {
      layer.bn!.movingMean.assign(tf.tensor1d(Float32Array.from(mean)));
      layer.bn!.movingVariance.assign(tf.tensor1d(Float32Array.from(variance)));
    });
    out.push({ mean, variance });
  });
  return out;
}
