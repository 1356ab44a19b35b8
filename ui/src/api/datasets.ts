// The datasets the dashboard can name: the built-in ones, those the models were trained on, and those
// uploaded from this tab. (The API has no dataset listing yet; when it has, it replaces this.)
import { api } from './client.js';
import type { DatasetInfo, ModelSummary } from './types.js';

export const BUILTIN_DATASETS = ['builtin:blobs', 'builtin:placement'];
const UPLOADED_KEY = 'bn-service.uploaded-datasets';

export function rememberUpload(id: string): void {
  const ids = uploadedHere();
  if (!ids.includes(id)) sessionStorage.setItem(UPLOADED_KEY, JSON.stringify([id, ...ids]));
}

function uploadedHere(): string[] {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(UPLOADED_KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** Ids, newest uploads first, then those of the models, then the built-in ones; each once. */
export async function knownDatasetIds(signal?: AbortSignal): Promise<string[]> {
  const { models } = await api<{ models: ModelSummary[] }>('/v1/models', { signal });
  return [...new Set([...uploadedHere(), ...models.map((m) => m.datasetId), ...BUILTIN_DATASETS])];
}

export function getDataset(id: string, signal?: AbortSignal): Promise<DatasetInfo> {
  return api<DatasetInfo>(`/v1/datasets/${encodeURIComponent(id)}`, { signal });
}

/** The column names of a CSV file's header row (to offer the label column); quotes are stripped. */
export async function csvHeader(file: Blob): Promise<string[]> {
  const head = await file.slice(0, 64 * 1024).text();
  const line = head.split(/\r?\n/, 1)[0] ?? '';
  return line
    .split(',')
    .map((c) => c.trim().replace(/^"(.*)"$/, '$1').replace(/""/g, '"'))
    .filter((c) => c !== '');
}
