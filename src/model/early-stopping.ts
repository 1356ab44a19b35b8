// Early stopping as Keras' EarlyStopping does it (mode "min", restore_best_weights off: the best
// checkpoint is kept by retention instead). The decision is a function of the per-epoch history alone,
// so a job resumed after a crash decides exactly as the uninterrupted run would have.
import type { EpochMetrics } from '../schemas/checkpoint.js';

export interface ResolvedEarlyStopping {
  monitor: 'valLoss' | 'loss';
  patience: number;
  minDelta: number;
}

export interface EarlyStoppingState {
  /** the epoch of the best monitored value so far (0 before any) */
  bestEpoch: number;
  best: number;
  /** epochs since the best one */
  wait: number;
  stop: boolean;
}

/** Replays the history (ascending epochs): an epoch improves when it is below the best by more than minDelta. */
export function earlyStoppingState(rule: ResolvedEarlyStopping, history: readonly EpochMetrics[]): EarlyStoppingState {
  let best = Infinity;
  let bestEpoch = 0;
  let wait = 0;
  for (const m of history) {
    const value = rule.monitor === 'valLoss' ? m.valLoss : m.loss;
    if (value === undefined || !Number.isFinite(value)) {
      wait++;
    } else if (value < best - rule.minDelta) {
      best = value;
      bestEpoch = m.epoch;
      wait = 0;
    } else {
      wait++;
    }
  }
  return { best, bestEpoch, wait, stop: history.length > 0 && wait >= rule.patience };
}
