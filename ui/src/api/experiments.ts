// Experiments: the list (paginated with the API's cursor), one experiment's status, starting the
// bn-comparisons template, cancelling, and the experiment's event stream.
import type { ExperimentAccepted, ExperimentStatus, ExperimentStatusName, ExperimentVariantStatus } from '../../../src/schemas/experiment.js';
import { api } from './client.js';
import { followEvents, type StreamHandlers } from './job-events.js';

export type { ExperimentAccepted, ExperimentStatus, ExperimentStatusName, ExperimentVariantStatus };

/** One row of the list: an experiment's status (its variants may be summarised). */
export type ExperimentListItem = Omit<ExperimentStatus, 'variants'> & {
  variants: (Partial<ExperimentVariantStatus> & { name: string })[] | number;
};

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

export function isFinished(status: ExperimentStatusName): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}
