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

/** One hidden layer over the epochs: its stats per epoch, in epoch order. */
export interface LayerSeries {
  layer: number;
  units: number;
  batchNorm: boolean;
  epochs: { epoch: number; stats: LayerEpochStats }[];
}

/** Per-epoch records regrouped per hidden layer (the panel draws one section per layer). */
export function layerSeries(epochs: readonly BnStatsEpoch[]): LayerSeries[] {
  const byLayer = new Map<number, LayerSeries>();
  for (const e of epochs) {
    for (const stats of e.layers) {
      let series = byLayer.get(stats.layer);
      if (!series) byLayer.set(stats.layer, (series = { layer: stats.layer, units: stats.units, batchNorm: stats.batchNorm, epochs: [] }));
      series.epochs.push({ epoch: e.epoch, stats });
    }
  }
  return [...byLayer.values()].sort((a, b) => a.layer - b.layer);
}
