// Datasets as the dashboard reads them: the API's list (uploads, then the built-in ones), one dataset's
// info, a page of its rows, and the header row of a CSV file the user is about to upload.
import { api } from './client.js';
import type { DatasetInfo, DatasetList, DatasetRows } from './types.js';

export function listDatasets(cursor: string | undefined, limit: number, signal?: AbortSignal): Promise<DatasetList> {
  const query = new URLSearchParams({ limit: String(limit), ...(cursor && { cursor }) });
  return api<DatasetList>(`/v1/datasets?${query}`, { signal });
}

/** Ids for a dataset picker: the newest page of the list (uploads first, then the built-in ones). */
export async function knownDatasetIds(signal?: AbortSignal): Promise<string[]> {
  const { datasets } = await listDatasets(undefined, 100, signal);
  return datasets.map((d) => d.id);
}

export function getDataset(id: string, signal?: AbortSignal): Promise<DatasetInfo> {
  return api<DatasetInfo>(`/v1/datasets/${encodeURIComponent(id)}`, { signal });
}

export function getRows(id: string, split: 'train' | 'test', offset: number, limit: number, signal?: AbortSignal): Promise<DatasetRows> {
  const query = new URLSearchParams({ split, offset: String(offset), limit: String(limit) });
  return api<DatasetRows>(`/v1/datasets/${encodeURIComponent(id)}/rows?${query}`, { signal });
}

/** The first bytes of a file, gunzipped when it is gzipped (the header row of a .csv.gz). */
async function head(file: Blob): Promise<string> {
  const start = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  if (start[0] !== 0x1f || start[1] !== 0x8b) return file.slice(0, 64 * 1024).text();
  const reader = file.stream().pipeThrough(new DecompressionStream('gzip')).pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (text.length < 64 * 1024 && !text.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  return text;
}

/** The column names of a CSV file's header row (to offer the label column); quotes are stripped. */
export async function csvHeader(file: Blob): Promise<string[]> {
  const line = (await head(file)).split(/\r?\n/, 1)[0] ?? '';
  return line
    .split(',')
    .map((c) => c.trim().replace(/^"(.*)"$/, '$1').replace(/""/g, '"'))
    .filter((c) => c !== '');
}
