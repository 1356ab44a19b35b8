// A model's per-epoch BN statistics (GET /v1/models/:modelId/bn-stats): loaded once, then extended with
// ?fromEpoch= as the model's job finishes epochs, so nothing already shown is fetched again.
import type { BnStatsEpoch, BnStatsResponse, LayerEpochStats } from '../../../src/schemas/bn-stats.js';
import { api } from './client.js';

export type { BnStatsEpoch, BnStatsResponse, LayerEpochStats };

export function getBnStats(modelId: string, fromEpoch: number | undefined, signal?: AbortSignal): Promise<BnStatsResponse> {
  const query = fromEpoch === undefined ? '' : `?fromEpoch=${fromEpoch}`;
  return api<BnStatsResponse>(`/v1/models/${encodeURIComponent(modelId)}/bn-stats${query}`, { signal });
}

/** `known` with `more` merged in: one entry per epoch (the later answer wins), ascending. */
export function mergeBnEpochs(known: readonly BnStatsEpoch[], more: readonly BnStatsEpoch[]): BnStatsEpoch[] {
  if (more.length === 0) return known as BnStatsEpoch[];
  const byEpoch = new Map<number, BnStatsEpoch>();
  for (const e of known) byEpoch.set(e.epoch, e);
  for (const e of more) byEpoch.set(e.epoch, e);
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** The epoch to ask for next: one past the last one known (0 when none is). */
export function nextEpoch(known: readonly BnStatsEpoch[]): number {
  return known.length === 0 ? 0 : known[known.length - 1].epoch + 1;
}

/** A hidden layer as the statistics describe it. */
export interface LayerInfo {
  layer: number;
  units: number;
  batchNorm: boolean;
}

/** The hidden layers, nearest the input first, as the latest epoch lists them. */
export function layersOf(epochs: readonly BnStatsEpoch[]): LayerInfo[] {
  const latest = epochs[epochs.length - 1];
  return (latest?.layers ?? []).map(({ layer, units, batchNorm }) => ({ layer, units, batchNorm })).sort((a, b) => a.layer - b.layer);
}
