// Which checkpoints are the best: one ranking for retention's keepBest and for the built-in `best`, so
// that the checkpoint `best` names is always one retention keeps (keepBest >= 1).
import type { EpochMetrics } from '../schemas/checkpoint.js';
import type { RetentionPolicy } from './store.js';

type Losses = Pick<EpochMetrics, 'loss' | 'valLoss'>;

interface Scored {
  epoch: number;
  metrics: Losses;
}

function score(metrics: Losses, by: RetentionPolicy['by']): number {
  const v = by === 'valLoss' ? (metrics.valLoss ?? metrics.loss) : metrics.loss;
  return Number.isFinite(v) ? v : Infinity;
}

/** Epochs from best to worst: the lower score first, the newer epoch first on a tie. */
export function rankCheckpoints(checkpoints: readonly Scored[], by: RetentionPolicy['by']): number[] {
  return checkpoints
    .map((c) => ({ epoch: c.epoch, score: score(c.metrics, by) }))
    .sort((a, b) => a.score - b.score || b.epoch - a.epoch)
    .map((c) => c.epoch);
}

/**
 * The best of these checkpoints, or null when there is none: the lowest valLoss when they carry one (the
 * job had a validation split, which is when retention ranks by valLoss too), else the lowest loss.
 */
export function bestCheckpoint(checkpoints: readonly Scored[]): number | null {
  if (checkpoints.length === 0) return null;
  const by = checkpoints.some((c) => c.metrics.valLoss !== undefined) ? 'valLoss' : 'loss';
  return rankCheckpoints(checkpoints, by)[0];
}
