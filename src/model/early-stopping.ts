// Early stopping as Keras' EarlyStopping does it (mode "min": patience counts the epochs since the last
// decrease by more than minDelta). Instead of restore_best_weights, the best checkpoint is kept by
// retention, which ranks checkpoints by the same loss. The decision is a function of the per-epoch
// history alone, so a job resumed after a crash decides exactly as the uninterrupted run would have.
import type { EpochMetrics } from '../schemas/checkpoint.js';
import type { ResolvedEarlyStopping, StoppedEarly } from '../schemas/training-extras.js';

export interface EarlyStoppingState {
  /** the epoch of the lowest monitored value, later epochs winning ties as in retention (0 before any) */
  bestEpoch: number;
  best: number;
  /** the value of the last improvement by more than minDelta, which patience counts from (Keras' `best`) */
  reference: number;
  /** epochs since that improvement (Keras' `wait`) */
  wait: number;
  stop: boolean;
}

export const INITIAL_EARLY_STOPPING: EarlyStoppingState = { bestEpoch: 0, best: Infinity, reference: Infinity, wait: 0, stop: false };

/** The state after one more epoch. A missing or non-finite value is no improvement. */
export function nextEarlyStoppingState(rule: ResolvedEarlyStopping, s: EarlyStoppingState, m: EpochMetrics): EarlyStoppingState {
  const value = rule.monitor === 'valLoss' ? m.valLoss : m.loss;
  const finite = value !== undefined && Number.isFinite(value);
  const lowest = finite && value <= s.best;
  const improved = finite && value < s.reference - rule.minDelta;
  const wait = improved ? 0 : s.wait + 1;
  return {
    bestEpoch: lowest ? m.epoch : s.bestEpoch,
    best: lowest ? value : s.best,
    reference: improved ? value : s.reference,
    wait,
    stop: wait >= rule.patience,
  };
}

/** Replays the history (ascending epochs). */
export function earlyStoppingState(rule: ResolvedEarlyStopping, history: readonly EpochMetrics[]): EarlyStoppingState {
  return history.reduce((s, m) => nextEarlyStoppingState(rule, s, m), INITIAL_EARLY_STOPPING);
}

/**
 * How a run whose history ends at its last trained epoch ended: undefined when it trained every planned
 * epoch or has no rule.
 */
export function stoppedEarly(
  rule: ResolvedEarlyStopping | undefined,
  history: readonly EpochMetrics[],
  epochs: number,
): StoppedEarly | undefined {
  const last = history.at(-1);
  if (!rule || !last || last.epoch >= epochs) return undefined;
  const { best, bestEpoch } = earlyStoppingState(rule, history);
  if (bestEpoch === 0) return undefined; // no finite value: divergence ends such a run, never early stopping
  return { epoch: last.epoch, bestEpoch, monitor: rule.monitor, best };
}
