// Per-feature statistics shown to users and used to sanity-check inputs, accumulated in one pass so that
// a dataset streamed from a file never has to be held: the shifted-data algorithm (sums of x - K with K
// each column's first value), which keeps the variance exact where a plain sum of squares cancels
// catastrophically (values near 1e9 with small spread) as long as K lies within the data, as it does here.
import type { DatasetPart, FeatureStats } from '../schemas/dataset.js';

export class StatsAccumulator {
  private n = 0;
  private readonly shift: Float64Array;
  private readonly s1: Float64Array;
  private readonly s2: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;

  constructor(readonly width: number) {
    this.shift = new Float64Array(width);
    this.s1 = new Float64Array(width);
    this.s2 = new Float64Array(width);
    this.min = new Float64Array(width).fill(Infinity);
    this.max = new Float64Array(width).fill(-Infinity);
  }

  get rows(): number {
    return this.n;
  }

  /** `rows` rows of `width` values, row-major, starting at `offset`. */
  addRows(values: ArrayLike<number>, rows: number, offset = 0): void {
    const { width, shift, s1, s2, min, max } = this;
    let at = offset;
    if (this.n === 0 && rows > 0) for (let j = 0; j < width; j++) shift[j] = values[offset + j];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < width; j++, at++) {
        const v = values[at];
        const d = v - shift[j];
        s1[j] += d;
        s2[j] += d * d;
        if (v < min[j]) min[j] = v;
        if (v > max[j]) max[j] = v;
      }
    }
    this.n += rows;
  }

  /** The statistics of the values added, each multiplied by `scale` (> 0). */
  result(scale = 1): FeatureStats {
    const { n, width } = this;
    const stats: FeatureStats = { mean: [], std: [], min: [], max: [] };
    if (n === 0) return stats;
    for (let j = 0; j < width; j++) {
      // A constant column has exactly zero spread and its own value as mean: do not report rounding noise.
      const constant = this.min[j] === this.max[j];
      const mean = constant ? this.min[j] : this.shift[j] + this.s1[j] / n;
      const variance = constant ? 0 : (this.s2[j] - (this.s1[j] * this.s1[j]) / n) / n;
      stats.mean.push(mean * scale);
      stats.std.push(Math.sqrt(Math.max(0, variance)) * scale);
      stats.min.push(this.min[j] * scale);
      stats.max.push(this.max[j] * scale);
    }
    return stats;
  }
}

/** Mean, population std, min and max of every column. Rows must be rectangular (see validateDatasetRows). */
export function computeStats(features: readonly (readonly number[])[]): FeatureStats {
  const acc = new StatsAccumulator(features.length > 0 ? features[0].length : 0);
  for (const row of features) acc.addRows(row, 1);
  return acc.result();
}

/** The statistics of a part's feature values (stored values times its scale). */
export function partStats(part: DatasetPart): FeatureStats {
  const acc = new StatsAccumulator(part.features);
  acc.addRows(part.x, part.rows);
  return acc.result(part.scale);
}

/** Tracks whether every label is a non-negative integer (a classification target) and the largest one. */
export class ClassTally {
  private max = -1;
  private integral = true;

  add(labels: ArrayLike<number>): void {
    if (!this.integral) return;
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i];
      if (!Number.isSafeInteger(y) || y < 0) {
        this.integral = false;
        return;
      }
      if (y > this.max) this.max = y;
    }
  }

  /** max label + 1 when every label is a non-negative integer, else undefined. */
  classes(): number | undefined {
    return this.integral && this.max >= 0 ? this.max + 1 : undefined;
  }
}

/** max label + 1 when every label is a non-negative integer (a classification target), else undefined. */
export function classCount(...labelArrays: ArrayLike<number>[]): number | undefined {
  const tally = new ClassTally();
  for (const labels of labelArrays) tally.add(labels);
  return tally.classes();
}
