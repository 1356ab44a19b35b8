// The per-epoch metrics of a job, whatever carries them. The curves consume two things only: an initial
// full history (the model's checkpoints, each with its epoch's metrics, and the job's own history) and
// "an epoch's metrics" as events arrive. epochsOfEvent is the one place that knows how the event stream
// carries them.
import type { EpochMetrics } from '../api/types.js';

function isEpochMetrics(value: unknown): value is EpochMetrics {
  if (!value || typeof value !== 'object') return false;
  const v = value as Partial<EpochMetrics>;
  return Number.isInteger(v.epoch) && typeof v.loss === 'number';
}

/**
 * The epochs' metrics one job event carries: the `history` of its JobStatus (every epoch so far, today on
 * every event), or a single epoch's metrics when the event is one (`metrics`, or the data itself).
 */
export function epochsOfEvent(_event: string, data: unknown): EpochMetrics[] {
  if (!data || typeof data !== 'object') return [];
  const d = data as { history?: unknown; metrics?: unknown };
  if (Array.isArray(d.history)) return d.history.filter(isEpochMetrics);
  if (isEpochMetrics(d.metrics)) return [d.metrics];
  return isEpochMetrics(data) ? [data] : [];
}

/** `known` with `more` merged in: one entry per epoch (the later report wins), ascending. */
export function mergeEpochs(known: readonly EpochMetrics[], more: readonly EpochMetrics[]): EpochMetrics[] {
  if (more.length === 0) return known as EpochMetrics[];
  const byEpoch = new Map<number, EpochMetrics>();
  for (const m of known) byEpoch.set(m.epoch, m);
  for (const m of more) byEpoch.set(m.epoch, m);
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}
