// Shared plain-JS references for the model tests (float64, no tfjs). Side-effect free.
import type { CheckpointDocument, CheckpointLayer } from '../src/schemas/checkpoint.js';
import { createPrng } from '../src/util/prng.js';
import type { Matrix, SavedCheckpoint } from '../src/model/types.js';
import type { DatasetPart } from '../src/schemas/dataset.js';
import { partFromRows } from '../src/datasets/arrays.js';
import { encodeCheckpoint } from '../src/store/checkpoint-files.js';

/** The TF.js artifacts the store serves for a saved epoch: its model.json and the weights.bin it writes. */
export function tfjsArtifacts(saved: SavedCheckpoint): { modelJson: SavedCheckpoint['tfjs']; weightsBin: Uint8Array } {
  return { modelJson: saved.tfjs, weightsBin: new Uint8Array(Buffer.concat(encodeCheckpoint(saved.checkpoint, saved.tfjs).weights)) };
}

/** A prediction computed by hand from the checkpoint's layers, with the frozen statistics. */
export function predictByHand(layers: readonly CheckpointLayer[], x: readonly number[]): number[] {
  let a = [...x];
  for (const l of layers) {
    if (l.type === 'dense') {
      const units = l.kernel[0].length;
      const out = new Array<number>(units).fill(0);
      for (let j = 0; j < units; j++) {
        let s = l.bias ? l.bias[j] : 0;
        for (let i = 0; i < a.length; i++) s += a[i] * l.kernel[i][j];
        out[j] = s;
      }
      a = out;
    } else if (l.type === 'batchNorm') {
      a = a.map((h, j) => (l.gamma[j] * (h - l.movingMean[j])) / Math.sqrt(l.movingVariance[j] + l.epsilon) + l.beta[j]);
    } else {
      const fn = l.fn;
      if (fn === 'relu') a = a.map((v) => Math.max(0, v));
      else if (fn === 'sigmoid') a = a.map((v) => 1 / (1 + Math.exp(-v)));
      else if (fn === 'tanh') a = a.map(Math.tanh);
      else if (fn === 'softmax') {
        const mx = Math.max(...a);
        const e = a.map((v) => Math.exp(v - mx));
        const s = e.reduce((p, q) => p + q, 0);
        a = e.map((v) => v / s);
      }
    }
  }
  return a;
}

export function accuracyOf(doc: CheckpointDocument, m: Matrix): number {
  let ok = 0;
  m.features.forEach((x, i) => {
    const y = predictByHand(doc.layers, x);
    const cls = y.length === 1 ? (y[0] > 0.5 ? 1 : 0) : y.indexOf(Math.max(...y));
    if (cls === m.labels[i]) ok++;
  });
  return ok / m.features.length;
}

/** The blobs problem (as make_blobs draws it): 1,000 points, centres (0,0) and (0.5,0.1), std 0.25, shuffled, 750 train / 250 test. */
export function blobs(seed: number): { train: Matrix; test: Matrix } {
  const p = createPrng(seed);
  const centres = [
    [0, 0],
    [0.5, 0.1],
  ];
  const rows: { x: number[]; y: number }[] = [];
  for (let i = 0; i < 1000; i++) {
    const y = i % 2;
    rows.push({ x: [centres[y][0] + 0.25 * p.normal(), centres[y][1] + 0.25 * p.normal()], y });
  }
  p.shuffle(rows);
  const toMatrix = (r: typeof rows): Matrix => ({ features: r.map((q) => q.x), labels: r.map((q) => q.y) });
  return { train: toMatrix(rows.slice(0, 750)), test: toMatrix(rows.slice(750)) };
}

/** Random rows for small synthetic problems. */
export function randomMatrix(seed: number, n: number, d: number, label: (x: number[], i: number) => number): Matrix {
  const p = createPrng(seed);
  const features: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = Array.from({ length: d }, () => p.normal());
    features.push(x);
    labels.push(label(x, i));
  }
  return { features, labels };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Column statistics of a [m][k] matrix in float64: mean and biased variance. */
export function columnStats(h: number[][]): { mean: number[]; variance: number[] } {
  const m = h.length;
  const k = h[0].length;
  const mean = new Array<number>(k).fill(0);
  const variance = new Array<number>(k).fill(0);
  for (const row of h) row.forEach((v, j) => (mean[j] += v / m));
  for (const row of h) row.forEach((v, j) => (variance[j] += (v - mean[j]) ** 2 / m));
  return { mean, variance };
}

/** Rows as the engine takes them (a float32 dataset part). */
export function toPart(m: Matrix): DatasetPart {
  return partFromRows(m.features, m.labels);
}
