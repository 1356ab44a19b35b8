// Per-feature statistics shown to users and used to sanity-check inputs. Corrected two-pass algorithm:
// the mean first, then squared deviations plus a correction term that cancels the mean's rounding error,
// so large offsets (e.g. values near 1e9 with small spread) do not destroy the variance.
import type { FeatureStats } from '../schemas/dataset.js';

/** Mean, population std, min and max of every column. Rows must be rectangular (see validateDatasetRows). */
export function computeStats(features: readonly (readonly number[])[]): FeatureStats {
  const n = features.length;
  const width = n > 0 ? features[0].length : 0;
  const sum = new Float64Array(width);
  const min = new Float64Array(width).fill(Infinity);
  const max = new Float64Array(width).fill(-Infinity);
  // Row-major loops: rows are separate arrays, so walking one row at a time is cache friendly.
  for (const row of features) {
    for (let j = 0; j < width; j++) {
      const v = row[j];
      sum[j] += v;
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  }
  const mean = new Float64Array(width);
  for (let j = 0; j < width; j++) mean[j] = min[j] === max[j] ? min[j] : sum[j] / n;

  const sq = new Float64Array(width);
  const dev = new Float64Array(width);
  for (const row of features) {
    for (let j = 0; j < width; j++) {
      const d = row[j] - mean[j];
      sq[j] += d * d;
      dev[j] += d;
    }
  }
  const std: number[] = [];
  for (let j = 0; j < width; j++) {
    // A constant column has exactly zero spread; do not report rounding noise.
    const variance = min[j] === max[j] ? 0 : (sq[j] - (dev[j] * dev[j]) / n) / n;
    std.push(Math.sqrt(Math.max(0, variance)));
  }
  return { mean: Array.from(mean), std, min: Array.from(min), max: Array.from(max) };
}
