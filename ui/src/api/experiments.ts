// Experiments: the list (paginated with the API's cursor), one experiment's status, starting the
// bn-comparisons template, cancelling, and the experiment's event stream.
import type { ExperimentAccepted, ExperimentStatus, ExperimentStatusName, ExperimentVariantStatus } from '../../../src/schemas/experiment.js';
import type { EpochMetrics } from '../../../src/schemas/checkpoint.js';
import { mergeEpochs } from '../jobs/epoch-metrics.js';
import { api } from './client.js';
import { FINAL_EVENTS, followEvents, type StreamHandlers } from './job-events.js';

export type { ExperimentAccepted, ExperimentStatus, ExperimentStatusName, ExperimentVariantStatus };

/** One row of the list: an experiment's status, its variants without their histories. */
export type ExperimentListItem = ExperimentStatus;

export interface ExperimentPage {
  experiments: ExperimentListItem[];
  nextCursor?: string;
}

export function listExperiments(cursor: string | undefined, limit: number, signal?: AbortSignal): Promise<ExperimentPage> {
  const query = new URLSearchParams({ limit: String(limit), ...(cursor && { cursor }) });
  return api<ExperimentPage>(`/v1/experiments?${query}`, { signal });
}

export function getExperiment(id: string, signal?: AbortSignal): Promise<ExperimentStatus> {
  return api<ExperimentStatus>(`/v1/experiments/${encodeURIComponent(id)}`, { signal });
}

/** The bn-comparisons template on one dataset, every variant trained for `epochs`. */
export function startComparisons(datasetId: string, epochs: number | undefined, name?: string): Promise<ExperimentAccepted> {
  return api<ExperimentAccepted>('/v1/experiments', {
    method: 'POST',
    json: {
      template: 'bn-comparisons',
      datasetId,
      ...(name && { name }),
      ...(epochs !== undefined && { base: { training: { epochs } } }),
    },
  });
}

export function deleteExperiment(id: string): Promise<unknown> {
  return api<unknown>(`/v1/experiments/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

export const reportUrl = (id: string) => `/v1/experiments/${encodeURIComponent(id)}/report`;

export function followExperiment(id: string, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
  return followEvents(`/v1/experiments/${encodeURIComponent(id)}/events`, handlers, signal);
}

function isStatus(data: unknown): data is ExperimentStatus {
  return !!data && typeof data === 'object' && typeof (data as ExperimentStatus).experimentId === 'string' && Array.isArray((data as ExperimentStatus).variants);
}

/**
 * The status after one event of the experiment's stream: `status` and the final events carry the whole
 * experiment; `epoch` one variant's new epoch ({variant, metrics}); `variant` a variant whose status
 * changed, without its history (kept from before). Unknown events change nothing.
 */
export function applyExperimentEvent(current: ExperimentStatus | undefined, event: string, data: unknown): ExperimentStatus | undefined {
  if ((event === 'status' || FINAL_EVENTS.has(event)) && isStatus(data)) return data;
  if (!current || !data || typeof data !== 'object') return current;
  if (event === 'epoch') {
    const { variant, metrics } = data as { variant?: string; metrics?: EpochMetrics };
    if (!metrics || typeof metrics.epoch !== 'number') return current;
    return {
      ...current,
      variants: current.variants.map((v) =>
        v.name !== variant
          ? v
          : { ...v, history: mergeEpochs(v.history ?? [], [metrics]), progress: { ...v.progress, epoch: Math.max(v.progress.epoch, metrics.epoch) } },
      ),
    };
  }
  if (event === 'variant') {
    const changed = data as ExperimentVariantStatus;
    return { ...current, variants: current.variants.map((v) => (v.name === changed.name ? { ...changed, history: changed.history ?? v.history } : v)) };
  }
  return current;
}

export function isFinished(status: ExperimentStatusName): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}
