// Dataset creation and lookup: validation, statistics and ids live here so routes and the worker share them.
import { randomBytes } from 'node:crypto';
import type { DatasetData, DatasetInfo, DatasetUpload } from '../schemas/dataset.js';
import type { Store } from '../store/store.js';
import { builtinDataset, isBuiltinId } from './builtin.js';
import { parseCsvDataset } from './csv.js';
import { computeStats } from './stats.js';
import { validateDatasetRows, type DatasetLimits } from './validate.js';

export type IdGenerator = () => string;

/** 'ds_' + 20 url-safe characters (120 random bits). */
export function newDatasetId(): string {
  return `ds_${randomBytes(15).toString('base64url')}`;
}

/** max label + 1 when every label is a non-negative integer (a classification target), else undefined. */
export function classCount(labels: readonly number[]): number | undefined {
  let max = -1;
  for (const y of labels) {
    if (!Number.isSafeInteger(y) || y < 0) return undefined;
    if (y > max) max = y;
  }
  return max >= 0 ? max + 1 : undefined;
}

async function storeDataset(
  store: Store,
  data: DatasetData,
  name: string | undefined,
  featureNames: string[] | undefined,
  idGen: IdGenerator,
): Promise<DatasetInfo> {
  const classes = classCount(data.labels);
  const info: DatasetInfo = {
    id: idGen(),
    ...(name !== undefined && { name }),
    rows: data.features.length,
    features: data.features[0].length,
    ...(featureNames !== undefined && { featureNames }),
    ...(classes !== undefined && { classes }),
    stats: computeStats(data.features),
    createdAt: new Date().toISOString(),
  };
  await store.putDataset(info, data);
  return info;
}

/** Throws DatasetError for invalid rows. */
export async function createDatasetFromUpload(
  store: Store,
  upload: DatasetUpload,
  limits: DatasetLimits,
  idGen: IdGenerator = newDatasetId,
): Promise<DatasetInfo> {
  const data = validateDatasetRows(upload.features, upload.labels, limits, upload.featureNames);
  return storeDataset(store, data, upload.name, upload.featureNames, idGen);
}

/** Throws DatasetError for unparsable or invalid CSV. */
export async function createDatasetFromCsv(
  store: Store,
  text: string,
  labelColumn: string,
  name: string | undefined,
  limits: DatasetLimits,
  idGen: IdGenerator = newDatasetId,
): Promise<DatasetInfo> {
  const { data, featureNames } = parseCsvDataset(text, labelColumn, limits);
  return storeDataset(store, data, name, featureNames, idGen);
}

export async function getDatasetInfo(store: Store, id: string): Promise<DatasetInfo | null> {
  return isBuiltinId(id) ? (builtinDataset(id)?.info ?? null) : store.getDatasetInfo(id);
}

export async function getDatasetData(store: Store, id: string): Promise<DatasetData | null> {
  return isBuiltinId(id) ? (builtinDataset(id)?.data ?? null) : store.getDatasetData(id);
}
