// Precise BN statistics: after training, every BN layer's population mean and variance recomputed
// with the final weights over the training rows, instead of the exponential moving averages, which
// average batch statistics of weights that kept changing (Wu & Johnson, "Rethinking 'Batch' in
// BatchNorm", 2021, call this PreciseBN). Layer by layer from the input up: the statistics of layer l
// are measured with every layer below it already in inference mode with ITS recomputed statistics,
// which is exactly the network that will serve predictions.
import * as tf from '@tensorflow/tfjs';
import { rowsTensor, type Packed } from './data.js';
import { bnInputInfer, type Network } from './network.js';

const CHUNK_ROWS = 4096;

export interface PopulationStats {
  mean: Float64Array;
  /** biased (1/n) or unbiased (1/(n-1)), as the model's varianceEstimator says */
  variance: Float64Array;
}

/**
 * Measures every BN layer over all rows of `rows` and writes the results into its moving statistics
 * (the network's variables). Per chunk the mean and the sum of squared deviations are computed on the
 * backend; chunks are merged in float64 (Chan, Golub & LeVeque's pairwise update), so no sum of squares
 * of large values loses the variance to cancellation. `afterChunk` runs after every chunk (the trainer
 * gives the event loop a turn there and checks for cancellation).
 */
export async function recomputeBnStatistics(
  net: Network,
  rows: Packed,
  afterChunk: () => Promise<void> = async () => {},
): Promise<PopulationStats[]> {
  const unbiased = net.spec.batchNorm.varianceEstimator === 'unbiased';
  const out: PopulationStats[] = [];
  for (let l = 0; l < net.hidden.length; l++) {
    const bn = net.hidden[l].bn;
    if (!bn) continue;
    const units = net.hidden[l].units;
    const mean = new Float64Array(units);
    const m2 = new Float64Array(units);
    let count = 0;
    for (let from = 0; from < rows.n; from += CHUNK_ROWS) {
      const to = Math.min(rows.n, from + CHUNK_ROWS);
      const nb = to - from;
      const [chunkMean, chunkM2] = tf.tidy(() => {
        const h = bnInputInfer(net, rowsTensor(rows, from, to), l);
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
      await afterChunk();
    }
    const variance = m2.map((v) => v / (unbiased && count > 1 ? count - 1 : count));
    tf.tidy(() => {
      bn.movingMean.assign(tf.tensor1d(Float32Array.from(mean)));
      bn.movingVariance.assign(tf.tensor1d(Float32Array.from(variance)));
    });
    out.push({ mean, variance });
  }
  return out;
}
