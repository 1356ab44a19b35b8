// What each hidden layer's input looks like, epoch by epoch, on a fixed probe batch (the first
// PROBE_ROWS training rows): per unit the mean and the biased std of the layer's pre-activation (the
// input of its BN layer, else the Dense output before the activation), summarised as quantiles across
// units, with their drift since the previous epoch (the "internal covariate shift" of Ioffe & Szegedy,
// 2015) and the BN parameters. The probe forward runs in training mode like a step (each lower BN layer
// normalises with the probe's own batch statistics) but on copies: nothing is updated, no gradient is
// taken. It works on checkpoint layers (plain Float32Arrays), so every engine and a stored checkpoint
// give the same numbers, and knows nothing of storage. As in the loop engine, the products run as backend
// ops and everything elementwise in loops over unit-major arrays (ops.ts says why).
import * as tf from '@tensorflow/tfjs';
import type { BatchNormTensors, Checkpoint, TensorLayer } from '../checkpoint/checkpoint.js';
import type { DatasetPart } from '../schemas/dataset.js';
import { COLLAPSE_THRESHOLDS, type BnStatsEpoch, type LayerEpochStats, type Quantiles } from '../schemas/bn-stats.js';
import { activateInPlace } from './activations.js';
import { bnBatchStats, bnForwardTrain } from './batch-norm.js';
import { pack, trainingRowCount, type Packed } from './data.js';
import { transposeInto } from './ops.js';

/** Rows of the probe batch, at most. */
export const PROBE_ROWS = 256;
/** Units listed per collapse flag, at most. */
const MAX_COLLAPSED = 64;
const QUANTILE_POINTS = [0, 0.1, 0.5, 0.9, 1] as const;

/** One hidden layer's pre-activation over the probe rows, per unit. */
export interface UnitStats {
  batchNorm: boolean;
  mean: Float64Array;
  /** biased: over the probe rows, 1/m */
  std: Float64Array;
  /** the layer's BN tensors, when it has a BN layer */
  bn?: BatchNormTensors;
}

/** The probe: the first min(PROBE_ROWS, n) rows of the training rows (after the validation split). */
export function probeOf(rows: Packed): Packed {
  const n = Math.min(PROBE_ROWS, rows.n);
  return { n, d: rows.d, x: rows.x.subarray(0, n * rows.d), y: rows.y.subarray(0, n) };
}

/** [min, p10, median, p90, max] with linear interpolation between order statistics (numpy's default). */
export function quantiles(values: ArrayLike<number>): Quantiles {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) throw new Error('internal: quantiles of no values');
  return QUANTILE_POINTS.map((q) => {
    const pos = q * (s.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(s.length - 1, lo + 1);
    const f = pos - lo;
    return f === 0 ? s[lo] : s[lo] + (s[hi] - s[lo]) * f; // f = 0: no Infinity - Infinity
  });
}

/** Per-unit mean and biased std of a unit-major [units, m] array, two passes in float64. */
function unitMoments(h: Float32Array, units: number, m: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(units);
  const std = new Float64Array(units);
  for (let j = 0; j < units; j++) {
    const o = j * m;
    let s = 0;
    for (let i = 0; i < m; i++) s += h[o + i];
    const mu = s / m;
    let ss = 0;
    for (let i = 0; i < m; i++) ss += (h[o + i] - mu) ** 2;
    mean[j] = mu;
    std[j] = Math.sqrt(ss / m);
  }
  return { mean, std };
}

/**
 * z = a . kernel (+ bias) for a [m, inputs] row-major, as the training step computes its products (a
 * backend op, the same kernels as the step's, rather than a loop over host memory), returned unit-major [units, m].
 */
function denseUnitMajor(a: Float32Array, inputs: number, m: number, kernel: Float32Array, units: number, bias?: Float32Array): Float32Array {
  const z = tf.tidy(() => {
    const p = tf.matMul(tf.tensor2d(a, [m, inputs]), tf.tensor2d(kernel, [inputs, units]));
    return (bias ? tf.add(p, tf.tensor1d(bias)) : p).dataSync() as Float32Array;
  });
  return transposeInto(z, m, units, new Float32Array(units * m));
}

/**
 * The training-mode forward of the probe through the hidden layers of `layers` (a checkpoint's, in
 * forward order), measuring each hidden layer's pre-activation. The output layer is not run.
 */
export function probeUnitStats(layers: readonly TensorLayer[], probe: Packed): UnitStats[] {
  const m = probe.n;
  if (m < 1) throw new Error('internal: an empty probe batch');
  let a = probe.x; // row-major [m, width] at every Dense layer's input, unit-major [width, m] in between
  let width = probe.d;
  const out: UnitStats[] = [];
  // Each hidden layer is its Dense layer and what follows it up to the next Dense layer.
  let pending: Float32Array | undefined; // the Dense output of the current hidden layer, not yet measured
  let current: UnitStats | undefined;
  const finish = () => {
    if (pending && current) Object.assign(current, unitMoments(pending, width, m));
    pending = undefined;
    current = undefined;
  };
  for (const layer of layers) {
    if (layer.type === 'dense') {
      finish();
      if (layer.name === 'dense_out') break;
      if (out.length > 0) a = transposeInto(a, width, m, new Float32Array(width * m));
      a = denseUnitMajor(a, width, m, layer.kernel, layer.units, layer.bias);
      width = layer.units;
      current = { batchNorm: false, mean: new Float64Array(0), std: new Float64Array(0) };
      out.push(current);
      pending = a;
    } else if (layer.type === 'batchNorm') {
      if (!current) throw new Error(`internal: ${layer.name} precedes every dense layer`);
      Object.assign(current, unitMoments(a, width, m), { batchNorm: true, bn: layer });
      pending = undefined;
      const r = new Float32Array(width * m);
      // The probe's own batch statistics, as a training step normalises; the layer's tensors are only read.
      bnForwardTrain(a, width, m, layer.gamma, layer.beta, layer.epsilon, new Float32Array(width * m), r, bnBatchStats(width));
      a = r;
    } else {
      if (layer.fn === 'softmax') throw new Error(`internal: a softmax (${layer.name}) before the output layer`);
      if (a === pending) a = a.slice(); // keep the measured values: the activation works in place
      activateInPlace(layer.fn, a);
    }
  }
  finish();
  return out;
}

function firstBelow(values: Float32Array, threshold: number, abs = false): number[] {
  const out: number[] = [];
  for (let j = 0; j < values.length && out.length < MAX_COLLAPSED; j++) if ((abs ? Math.abs(values[j]) : values[j]) < threshold) out.push(j);
  return out;
}

/**
 * Drift of one layer since `prev`: per unit |mean - mean'| / std' and |std / std' - 1| (primes: the
 * previous epoch). Units whose previous std is 0 (a constant input) have no defined drift and are left
 * out; undefined when every unit is.
 */
function drift(cur: UnitStats, prev: UnitStats): { meanDrift: Quantiles; stdDrift: Quantiles } | undefined {
  const md: number[] = [];
  const sd: number[] = [];
  for (let j = 0; j < cur.mean.length; j++) {
    const s = prev.std[j];
    if (!(s > 0)) continue;
    md.push(Math.abs(cur.mean[j] - prev.mean[j]) / s);
    sd.push(Math.abs(cur.std[j] / s - 1));
  }
  return md.length > 0 ? { meanDrift: quantiles(md), stdDrift: quantiles(sd) } : undefined;
}

/** The epoch's record from its per-unit values; `prev` (the previous epoch's) gives the drift. */
export function epochStats(epoch: number, cur: readonly UnitStats[], prev?: readonly UnitStats[]): BnStatsEpoch {
  const layers = cur.map((u, layer): LayerEpochStats => {
    const s: LayerEpochStats = { layer, units: u.mean.length, batchNorm: u.batchNorm, mean: quantiles(u.mean), std: quantiles(u.std) };
    const p = prev?.[layer];
    if (p && p.mean.length === u.mean.length) Object.assign(s, drift(u, p));
    if (u.bn) {
      s.gamma = quantiles(u.bn.gamma);
      s.beta = quantiles(u.bn.beta);
      s.movingMean = quantiles(u.bn.movingMean);
      s.movingVariance = quantiles(u.bn.movingVariance);
      s.collapsed = {
        movingVariance: firstBelow(u.bn.movingVariance, COLLAPSE_THRESHOLDS.movingVariance),
        gamma: firstBelow(u.bn.gamma, COLLAPSE_THRESHOLDS.absGamma, true),
      };
    }
    return s;
  });
  return { epoch, layers };
}

/**
 * Epoch after epoch on one probe: keeps the previous epoch's per-unit values (never stored: after a
 * resume, `start` measures the resumed weights again).
 */
export class BnStatsTracker {
  private prev: UnitStats[] | undefined;
  constructor(private readonly probe: Packed) {}

  /** Measures `layers` as the state before the next epoch, without a record (a resumed checkpoint). */
  start(layers: readonly TensorLayer[]): void {
    this.prev = probeUnitStats(layers, this.probe);
  }

  /** The record of `epoch`, whose weights are `layers`; its drift is against the previous measure. */
  measure(epoch: number, layers: readonly TensorLayer[]): BnStatsEpoch {
    const cur = probeUnitStats(layers, this.probe);
    const record = epochStats(epoch, cur, this.prev);
    this.prev = cur;
    return record;
  }
}

/**
 * The record of a stored checkpoint, measured on the probe its job trained with (`data`: the job's
 * training part; without a separate validation part the last validationSplit of it validates);
 * `previous`, the checkpoint of the epoch before, gives the drift. For repairing a log after a crash.
 */
export function bnStatsOfCheckpoint(
  data: DatasetPart,
  options: { validationSplit: number; separateValidation: boolean },
  checkpoint: Checkpoint,
  previous?: Checkpoint,
): BnStatsEpoch {
  const n = options.separateValidation ? data.rows : trainingRowCount(data.rows, options.validationSplit);
  const probe = pack(data, checkpoint.spec.task, 0, Math.min(PROBE_ROWS, n));
  const tracker = new BnStatsTracker(probe);
  if (previous) tracker.start(previous.layers);
  return tracker.measure(checkpoint.epoch, checkpoint.layers);
}
