// Datasets on the filesystem, in binary: each part's features (uint8 or float32, row-major) and labels
// (float32) are files of their own under datasets/<id>/, streamed into a staging directory, fsynced,
// renamed into place, and published by the info document datasets/<id>.json, written last. So a reader
// that finds the info finds every file complete, and a crash mid-upload leaves only a staging directory
// (removed a day later). Datasets stored as JSON rows by earlier versions (<id>.data.json) are still read.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DatasetData, DatasetInfo, DatasetPart, FeatureType, PartName, PartStorage } from '../schemas/dataset.js';
import { memoryPartReader, partFromRows } from '../datasets/arrays.js';
import { TMP_PREFIX, fsyncDir, isErrno, openIfExists, readJson, uniqueSuffix, writeFileAtomic } from '../util/atomic-file.js';
import { isStorableId, requireId, type FsLayout } from './fs-layout.js';
import type { ByteSink, DatasetWriter, PartReader, Store } from './store.js';

export type DatasetStore = Pick<
  Store,
  'putDataset' | 'createDatasetWriter' | 'getDatasetInfo' | 'getDatasetData' | 'openDatasetPart' | 'listDatasets' | 'deleteDataset'
>;

/** Writes are gathered into blocks of this size: parsers hand over small chunks. */
const SINK_BUFFER_BYTES = 1 << 20;
/** Staging directories of uploads that never finished (the process died) are removed after this long. */
const STALE_STAGING_MS = 24 * 3600 * 1000;
const LEGACY_STORAGE: PartStorage = { features: 'float32', scale: 1 };

const BYTES: Record<FeatureType, number> = { uint8: 1, float32: 4 };

export function featuresFileName(part: PartName, type: FeatureType): string {
  return `${part}-x.${type === 'uint8' ? 'u8' : 'f32'}`;
}

export function labelsFileName(part: PartName): string {
  return `${part}-y.f32`;
}

interface PartLayout {
  rows: number;
  features: number;
  storage: PartStorage;
}

/** The parts an info document describes. */
function partsOf(info: DatasetInfo): Partial<Record<PartName, PartLayout>> {
  const parts: Partial<Record<PartName, PartLayout>> = { train: { rows: info.rows, features: info.features, storage: info.storage } };
  if (info.test) parts.test = { rows: info.test.rows, features: info.features, storage: info.test.storage };
  return parts;
}

async function openSink(file: string): Promise<ByteSink> {
  const handle = await fs.open(file, 'wx', 0o644);
  const buffer = Buffer.allocUnsafe(SINK_BUFFER_BYTES);
  let used = 0;
  let closed = false;
  const writeAll = async (bytes: Uint8Array) => {
    for (let offset = 0; offset < bytes.length; ) {
      offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
    }
  };
  const flush = async () => {
    if (used === 0) return;
    const n = used;
    used = 0;
    await writeAll(buffer.subarray(0, n));
  };
  return {
    async write(bytes) {
      if (closed) throw new Error('write after close');
      if (used + bytes.length > SINK_BUFFER_BYTES) await flush();
      if (bytes.length >= SINK_BUFFER_BYTES) await writeAll(bytes);
      else {
        buffer.set(bytes, used);
        used += bytes.length;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await flush();
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
  };
}

/** Fills `target` with the whole file; null when the file is gone (the dataset was deleted meanwhile). */
async function readWhole(file: string, target: Uint8Array): Promise<Uint8Array | null> {
  const handle = await openIfExists(file);
  if (!handle) return null;
  try {
    const { size } = await handle.stat();
    if (size !== target.byteLength) throw new Error(`${file} has ${size} bytes, expected ${target.byteLength}: the data directory is damaged`);
    await readAt(handle, target, 0, file);
    return target;
  } finally {
    await handle.close();
  }
}

async function readAt(handle: fs.FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  for (let offset = 0; offset < target.byteLength; ) {
    const { bytesRead } = await handle.read(target, offset, target.byteLength - offset, position + offset);
    if (bytesRead === 0) throw new Error(`${file} ends before byte ${position + target.byteLength}: the data directory is damaged`);
    offset += bytesRead;
  }
}

function allocFeatures(type: FeatureType, values: number): Uint8Array | Float32Array {
  return type === 'uint8' ? new Uint8Array(values) : new Float32Array(values);
}

const bytesOf = (a: Uint8Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export function fsDatasetStore(layout: FsLayout): DatasetStore {
  let swept = false;

  async function sweepStaleStaging(): Promise<void> {
    if (swept) return;
    swept = true;
    const entries = await fs.readdir(layout.datasetsDir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.name.startsWith(TMP_PREFIX)) continue;
      const full = path.join(layout.datasetsDir, entry.name);
      const stat = await fs.stat(full).catch(() => null);
      if (stat && Date.now() - stat.mtimeMs > STALE_STAGING_MS) await fs.rm(full, { recursive: true, force: true });
    }
  }

  async function readLegacyRows(id: string): Promise<DatasetPart | null> {
    const rows = await readJson<{ features: number[][]; labels: number[] }>(layout.datasetDataPath(id));
    return rows ? partFromRows(rows.features, rows.labels) : null;
  }

  async function readInfo(id: string): Promise<DatasetInfo | null> {
    if (!isStorableId(id)) return null;
    const info = await readJson<DatasetInfo>(layout.datasetInfoPath(id));
    if (info && info.storage === undefined) info.storage = { ...LEGACY_STORAGE };
    return info;
  }

  /** Is this info document one of a dataset stored as JSON rows? Those have no directory of files. */
  async function isLegacy(id: string): Promise<boolean> {
    return fs.access(layout.datasetDataPath(id)).then(
      () => true,
      () => false,
    );
  }

  async function readPart(id: string, part: PartName, p: PartLayout): Promise<DatasetPart | null> {
    const dir = layout.datasetDir(id);
    const x = allocFeatures(p.storage.features, p.rows * p.features);
    const y = new Float32Array(p.rows);
    if (!(await readWhole(path.join(dir, featuresFileName(part, p.storage.features)), bytesOf(x)))) return null;
    if (!(await readWhole(path.join(dir, labelsFileName(part)), bytesOf(y)))) return null;
    return { rows: p.rows, features: p.features, x, scale: p.storage.scale, y };
  }

  const store: DatasetStore = {
    async createDatasetWriter(id) {
      requireId(id, 'dataset id');
      await sweepStaleStaging();
      const staging = path.join(layout.datasetsDir, `${TMP_PREFIX}${uniqueSuffix()}`);
      await fs.mkdir(staging);
      const sinks: ByteSink[] = [];
      let published: string | undefined;
      let committed = false;
      const open = async (name: string) => {
        const sink = await openSink(path.join(staging, name));
        sinks.push(sink);
        return sink;
      };
      const writer: DatasetWriter = {
        id,
        openFeatures: (part, type) => open(featuresFileName(part, type)),
        openLabels: (part) => open(labelsFileName(part)),
        async commit(info) {
          if (info.id !== id) throw new Error(`the info is of dataset ${info.id}, the writer of ${id}`);
          for (const sink of sinks) await sink.close();
          for (const [part, p] of Object.entries(partsOf(info)) as [PartName, PartLayout][]) {
            const expect: [string, number][] = [
              [featuresFileName(part, p.storage.features), p.rows * p.features * BYTES[p.storage.features]],
              [labelsFileName(part), p.rows * 4],
            ];
            for (const [name, bytes] of expect) {
              const size = (await fs.stat(path.join(staging, name)).catch(() => null))?.size;
              if (size !== bytes) throw new Error(`dataset ${id}: ${name} holds ${size ?? 'no'} bytes, the info says ${bytes}`);
            }
          }
          await fsyncDir(staging);
          const dir = layout.datasetDir(id);
          await fs.rename(staging, dir);
          published = dir;
          await fsyncDir(layout.datasetsDir);
          await writeFileAtomic(layout.datasetInfoPath(id), JSON.stringify(info, null, 2));
          committed = true;
        },
        async abort() {
          if (committed) return;
          for (const sink of sinks) await sink.close().catch(() => undefined);
          await fs.rm(staging, { recursive: true, force: true });
          if (published) await fs.rm(published, { recursive: true, force: true });
        },
      };
      return writer;
    },

    async putDataset(info, data) {
      requireId(info.id, 'dataset id');
      const writer = await store.createDatasetWriter(info.id);
      try {
        for (const [part, rows] of [['train', data.train], ['test', data.test]] as const) {
          if (!rows) continue;
          if (rows.y.length !== rows.rows || rows.x.length !== rows.rows * rows.features) {
            throw new Error(`dataset ${info.id}: the ${part} part's arrays do not hold ${rows.rows} rows of ${rows.features}`);
          }
          const type: FeatureType = rows.x instanceof Uint8Array ? 'uint8' : 'float32';
          const xs = await writer.openFeatures(part, type);
          await xs.write(bytesOf(rows.x));
          const ys = await writer.openLabels(part);
          await ys.write(bytesOf(rows.y));
        }
        await writer.commit(info);
      } catch (err) {
        await writer.abort();
        throw err;
      }
    },

    getDatasetInfo: readInfo,

    async getDatasetData(id) {
      const info = await readInfo(id);
      if (!info) return null;
      if (await isLegacy(id)) {
        const train = await readLegacyRows(id);
        return train ? { train } : null;
      }
      const parts = partsOf(info);
      const train = await readPart(id, 'train', parts.train!);
      if (!train) return null;
      const data: DatasetData = { train };
      if (parts.test) {
        const test = await readPart(id, 'test', parts.test);
        if (!test) return null;
        data.test = test;
      }
      return data;
    },

    async openDatasetPart(id, part): Promise<PartReader | null> {
      const info = await readInfo(id);
      const p = info ? partsOf(info)[part] : undefined;
      if (!p) return null;
      if (await isLegacy(id)) {
        const rows = part === 'train' ? await readLegacyRows(id) : null;
        return rows ? memoryPartReader(rows) : null;
      }
      const dir = layout.datasetDir(id);
      const xFile = path.join(dir, featuresFileName(part, p.storage.features));
      const yFile = path.join(dir, labelsFileName(part));
      const xHandle = await openIfExists(xFile);
      if (!xHandle) return null;
      const yHandle = await openIfExists(yFile).catch(async (err: unknown) => {
        await xHandle.close();
        throw err;
      });
      if (!yHandle) {
        await xHandle.close();
        return null;
      }
      const xBytes = BYTES[p.storage.features];
      return {
        rows: p.rows,
        features: p.features,
        async read(from, to) {
          if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to && to <= p.rows)) {
            throw new RangeError(`rows [${from}, ${to}) are outside the ${p.rows} rows of the ${part} part`);
          }
          const x = allocFeatures(p.storage.features, (to - from) * p.features);
          const y = new Float32Array(to - from);
          await readAt(xHandle, bytesOf(x), from * p.features * xBytes, xFile);
          await readAt(yHandle, bytesOf(y), from * 4, yFile);
          return { rows: to - from, features: p.features, x, scale: p.storage.scale, y };
        },
        async close() {
          await Promise.allSettled([xHandle.close(), yHandle.close()]);
        },
      };
    },

    async listDatasets() {
      const names = await fs.readdir(layout.datasetsDir).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT')) return [] as string[];
        throw err;
      });
      const infos: DatasetInfo[] = [];
      for (const name of names) {
        if (!name.endsWith('.json') || name.endsWith('.data.json') || name.startsWith(TMP_PREFIX)) continue;
        const info = await readInfo(name.slice(0, -'.json'.length));
        if (info) infos.push(info);
      }
      return infos.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
    },

    async deleteDataset(id) {
      if (!isStorableId(id)) return false;
      try {
        await fs.rm(layout.datasetInfoPath(id));
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return false;
        throw err;
      }
      await fsyncDir(layout.datasetsDir);
      await fs.rm(layout.datasetDir(id), { recursive: true, force: true });
      await fs.rm(layout.datasetDataPath(id), { force: true });
      return true;
    },
  };
  return store;
}
