// Dataset creation and lookup, for built-in and stored datasets alike: validation, statistics and ids
// live here so that the routes, the worker and evaluation share them.
import { randomBytes } from 'node:crypto';
import type { DatasetData, DatasetInfo, DatasetPart, DatasetUpload, PartName, SplitName } from '../schemas/dataset.js';
import type { PartReader, Store } from '../store/store.js';
import { memoryPartReader } from './arrays.js';
import { builtinData, builtinInfo, builtinPart, isBuiltinId, missingBuiltinMessage } from './builtin.js';
import { classCount, partStats } from './stats.js';
import { UploadSession, type UploadMode } from './upload.js';
import { validateDatasetRows, type DatasetLimits } from './validate.js';

export type IdGenerator = () => string;

/** 'ds_' + 20 url-safe characters (120 random bits). */
export function newDatasetId(): string {
  return `ds_${randomBytes(15).toString('base64url')}`;
}

export interface DatasetMeta {
  name?: string;
  featureNames?: string[];
  source?: string;
}

/** Stores rows already validated (see validateDatasetRows) and returns their info. */
export async function storeDataset(store: Store, data: DatasetData, meta: DatasetMeta = {}, idGen: IdGenerator = newDatasetId): Promise<DatasetInfo> {
  const { train, test } = data;
  const classes = classCount(train.y, ...(test ? [test.y] : []));
  const storage = (p: DatasetPart) => ({ features: p.x instanceof Uint8Array ? ('uint8' as const) : ('float32' as const), scale: p.scale });
  const info: DatasetInfo = {
    id: idGen(),
    ...(meta.name !== undefined && { name: meta.name }),
    rows: train.rows,
    features: train.features,
    ...(meta.featureNames !== undefined && { featureNames: meta.featureNames }),
    ...(classes !== undefined && { classes }),
    stats: partStats(train),
    storage: storage(train),
    ...(test && { test: { rows: test.rows, stats: partStats(test), storage: storage(test) } }),
    ...(meta.source !== undefined && { source: meta.source }),
    createdAt: new Date().toISOString(),
  };
  await store.putDataset(info, data);
  return info;
}

/** A JSON upload {features, labels, name?, featureNames?}; throws DatasetError for invalid rows. */
export async function createDatasetFromUpload(
  store: Store,
  upload: DatasetUpload,
  limits: DatasetLimits,
  idGen: IdGenerator = newDatasetId,
): Promise<DatasetInfo> {
  const train = validateDatasetRows(upload.features, upload.labels, limits, upload.featureNames);
  return storeDataset(store, { train }, { name: upload.name, featureNames: upload.featureNames, source: 'upload: JSON rows' }, idGen);
}

/** An upload of files (see UploadSession); the caller feeds it, then finishes or aborts it. */
export function startUpload(store: Store, limits: DatasetLimits, mode: UploadMode, idGen: IdGenerator = newDatasetId): Promise<UploadSession> {
  return UploadSession.start(store, idGen(), limits, mode);
}

export async function getDatasetInfo(store: Store, id: string): Promise<DatasetInfo | null> {
  return isBuiltinId(id) ? builtinInfo(id) : store.getDatasetInfo(id);
}

/** Every part in memory (training). */
export async function getDatasetData(store: Store, id: string): Promise<DatasetData | null> {
  return isBuiltinId(id) ? builtinData(id) : store.getDatasetData(id);
}

/** What to tell a user who named a dataset that does not exist (or, built in, cannot be read here). */
export async function missingDatasetMessage(id: string): Promise<string> {
  if (isBuiltinId(id)) return missingBuiltinMessage(id);
  return `no dataset ${id}; upload one with POST /v1/datasets or use a builtin:* dataset (GET /v1/datasets/builtin:mnist)`;
}

export interface SplitReader {
  split: SplitName;
  rows: number;
  features: number;
  /** The split's rows in order, at most `chunkRows` at a time. */
  chunks(chunkRows: number): AsyncGenerator<DatasetPart>;
  close(): Promise<void>;
}

/** One part's rows, read a range at a time (stored datasets are not loaded whole); null when it does not exist. */
export async function openDatasetPart(store: Store, id: string, part: PartName): Promise<PartReader | null> {
  if (!isBuiltinId(id)) return store.openDatasetPart(id, part);
  const rows = await builtinPart(id, part);
  return rows ? memoryPartReader(rows) : null;
}

/**
 * The rows of a split without loading a stored dataset whole: 'train', 'test' or 'all' (train, then test).
 * null when the dataset, or the part the split needs, does not exist.
 */
export async function openDatasetSplit(store: Store, id: string, split: SplitName): Promise<SplitReader | null> {
  const names: PartName[] = split === 'all' ? ['train', 'test'] : [split];
  const readers: PartReader[] = [];
  for (const name of names) {
    const reader = await openDatasetPart(store, id, name);
    if (reader) readers.push(reader);
    else if (split !== 'all' || name === 'train') {
      await Promise.all(readers.map((r) => r.close()));
      return null;
    }
  }
  return {
    split,
    rows: readers.reduce((n, r) => n + r.rows, 0),
    features: readers[0].features,
    async *chunks(chunkRows) {
      const step = Math.max(1, Math.floor(chunkRows));
      for (const reader of readers) {
        for (let from = 0; from < reader.rows; from += step) yield reader.read(from, Math.min(reader.rows, from + step));
      }
    },
    close: async () => {
      await Promise.all(readers.map((r) => r.close()));
    },
  };
}
