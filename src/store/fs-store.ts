// Filesystem Store. Several processes (API, workers) share DATA_DIR, so nothing mutable is cached and every
// write is atomic: temporary name in the same directory, fsync, rename, fsync the directory.
//
// Layout under dataDir:
//   datasets/<id>.json, datasets/<id>.data.json
//   models/<modelId>/model.json
//   models/<modelId>/checkpoints/<epoch, 6 digits>/{checkpoint.json, training-state.json, model.json, weights.bin}
import { randomBytes } from 'node:crypto';
import fsSync, { type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetData, DatasetInfo } from '../schemas/dataset.js';
import type { CheckpointDocument, TfjsArtifacts, TrainingState } from '../schemas/checkpoint.js';
import type { ArtifactName, CheckpointSummary, ModelRecord, Store } from './store.js';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const EPOCH_DIR_PATTERN = /^\d{6,}$/;
const TMP_PREFIX = '.tmp-';
/** Leftovers of crashed writers older than this are swept; younger ones may belong to a live writer. */
const STALE_LEFTOVER_MS = 10 * 60_000;
const ARTIFACT_NAMES: readonly ArtifactName[] = ['model.json', 'weights.bin'];

/** True for ids that may become a path segment. `builtin:` datasets never reach the disk. */
export function isStorableId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

function isEpoch(epoch: unknown): epoch is number {
  return typeof epoch === 'number' && Number.isSafeInteger(epoch) && epoch >= 1;
}

function epochDirName(epoch: number): string {
  return String(epoch).padStart(6, '0');
}

function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(6).toString('hex')}`;
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}

/** Rejects NaN and Infinity, which JSON.stringify would silently turn into null. */
function finiteReplacer(key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`refusing to store a non-finite number (${value}) at key "${key}"`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Atomic file primitives

/** Makes a rename durable. Some platforms cannot open or fsync a directory; the rename still happened. */
async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!isErrno(err, 'EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'EACCES')) throw err;
  } finally {
    await handle?.close();
  }
}

type FileContent = string | Uint8Array | Iterable<string>;

/** Writes and fsyncs a new file; the caller renames it into place. */
async function writeNewFile(file: string, content: FileContent): Promise<void> {
  const handle = await fs.open(file, 'wx', 0o644);
  try {
    if (typeof content === 'string' || content instanceof Uint8Array) {
      await handle.writeFile(content);
    } else {
      for (const chunk of content) {
        const bytes = Buffer.from(chunk, 'utf8');
        for (let offset = 0; offset < bytes.length; ) {
          offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
        }
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeFileAtomic(file: string, content: FileContent): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `${TMP_PREFIX}${uniqueSuffix()}`);
  try {
    await writeNewFile(tmp, content);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

// Synchronous twins, for checkpoints only. A checkpoint is written by the training child, whose event loop
// serves nothing else. Asynchronously, each of a save's ~26 file operations is a thread-pool round trip:
// about 2 ms per save on an idle machine (4 ms measured in the training child) against 0.8 ms
// synchronously. Small-network jobs per hour rose by a sixth or more (README, Performance). The API
// process keeps the asynchronous ones.

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fsSync.openSync(dir, 'r');
    fsSync.fsyncSync(fd);
  } catch (err) {
    if (!isErrno(err, 'EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'EACCES')) throw err;
  } finally {
    if (fd !== undefined) fsSync.closeSync(fd);
  }
}

function writeNewFileSync(file: string, content: string | Uint8Array): void {
  const fd = fsSync.openSync(file, 'wx', 0o644);
  try {
    fsSync.writeFileSync(fd, content);
    fsSync.fsyncSync(fd);
  } finally {
    fsSync.closeSync(fd);
  }
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
    throw err;
  }
}

/** Dataset rows, one per line, in chunks: no single giant string is built while writing. */
function* datasetJsonChunks(data: DatasetData): Generator<string> {
  yield `{"labels":${JSON.stringify(data.labels)},\n"features":[`;
  let chunk = '';
  for (let i = 0; i < data.features.length; i++) {
    chunk += (i === 0 ? '\n' : ',\n') + JSON.stringify(data.features[i]);
    if (chunk.length >= 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}\n]}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// In-process helpers: per-key serialization and a bounded LRU for immutable checkpoint data

function createKeyedSerializer() {
  const tails = new Map<string, Promise<void>>();
  return async function serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

class Lru<V> {
  private readonly entries = new Map<string, { value: V; weight: number }>();
  private totalWeight = 0;
  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight: number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, weight = 1): void {
    this.delete(key);
    if (weight > this.maxWeight) return;
    this.entries.set(key, { value, weight });
    this.totalWeight += weight;
    while (this.entries.size > this.maxEntries || this.totalWeight > this.maxWeight) {
      const oldest = this.entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.totalWeight -= entry.weight;
  }
}

/**
 * Identifies one written file. The store never rewrites an epoch, but DATA_DIR is shared with other
 * processes and may be restored from a backup: a changed file never gives a stale cache hit.
 */
function fileSignature(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

// ---------------------------------------------------------------------------------------------------------

export interface FsStoreOptions {
  /** Parsed checkpoint documents kept in memory (default 16). */
  checkpointCacheEntries?: number;
  /** Upper bound on the cached documents' total file size (default 128 MiB). */
  checkpointCacheBytes?: number;
}

/**
 * Opens (and creates) a store under dataDir. Checkpoint documents may be served from an in-process cache,
 * so callers must treat returned documents as read-only.
 */
export async function createFsStore(dataDir: string, options: FsStoreOptions = {}): Promise<Store> {
  const root = path.resolve(dataDir);
  const datasetsDir = path.join(root, 'datasets');
  const modelsDir = path.join(root, 'models');
  await fs.mkdir(datasetsDir, { recursive: true });
  await fs.mkdir(modelsDir, { recursive: true });

  const serialize = createKeyedSerializer();
  const docCache = new Lru<CheckpointDocument>(
    options.checkpointCacheEntries ?? 16,
    options.checkpointCacheBytes ?? 128 * 1024 * 1024,
  );
  // Summaries are tiny; keeping many makes repeated listings cheap for models with many epochs.
  const summaryCache = new Lru<CheckpointSummary>(10_000, 10_000);

  /** Every path is built here from validated segments; the containment check is defence in depth. */
  function inside(...segments: string[]): string {
    const full = path.join(root, ...segments);
    const rel = path.relative(root, full);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw new Error('path escapes the data directory');
    return full;
  }

  const datasetInfoPath = (id: string) => inside('datasets', `${id}.json`);
  const datasetDataPath = (id: string) => inside('datasets', `${id}.data.json`);
  const modelDir = (modelId: string) => inside('models', modelId);
  const modelPath = (modelId: string) => inside('models', modelId, 'model.json');
  const checkpointsDir = (modelId: string) => inside('models', modelId, 'checkpoints');
  const epochDir = (modelId: string, epoch: number) => inside('models', modelId, 'checkpoints', epochDirName(epoch));

  function requireId(id: unknown, what: string): string {
    if (!isStorableId(id)) throw new Error(`invalid ${what}: ${JSON.stringify(id)}`);
    return id;
  }

  /** Epoch directory names, ascending; readers then skip any without checkpoint.json (never ours: it is written last). */
  async function completedEpochs(modelId: string): Promise<number[]> {
    let names: string[];
    try {
      names = await fs.readdir(checkpointsDir(modelId));
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return [];
      throw err;
    }
    const epochs = names.filter((n) => EPOCH_DIR_PATTERN.test(n)).map(Number).filter(isEpoch);
    return epochs.sort((a, b) => a - b);
  }

  /** Reads checkpoint.json through one handle so the signature and the content belong to the same file. */
  async function readCheckpointFile(
    modelId: string,
    epoch: number,
    cacheDoc = true,
  ): Promise<CheckpointDocument | null> {
    const file = path.join(epochDir(modelId, epoch), 'checkpoint.json');
    let handle: FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
      throw err;
    }
    try {
      const stats = await handle.stat();
      const key = `${modelId}/${epoch}/${fileSignature(stats)}`;
      const cached = docCache.get(key);
      if (cached) return cached;
      const doc = JSON.parse(await handle.readFile('utf8')) as CheckpointDocument;
      if (doc.modelId !== modelId || doc.epoch !== epoch) {
        throw new Error(`corrupt checkpoint ${modelId}/${epoch}: document names ${doc.modelId}/${doc.epoch}`);
      }
      if (cacheDoc) docCache.set(key, doc, stats.size);
      summaryCache.set(key, { epoch: doc.epoch, createdAt: doc.createdAt, metrics: doc.metrics });
      return doc;
    } finally {
      await handle.close();
    }
  }

  async function summaryOf(modelId: string, epoch: number): Promise<CheckpointSummary | null> {
    const file = path.join(epochDir(modelId, epoch), 'checkpoint.json');
    try {
      const cached = summaryCache.get(`${modelId}/${epoch}/${fileSignature(await fs.stat(file))}`);
      if (cached) return cached;
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
      throw err;
    }
    // Listing many epochs must not evict the documents predictions are using.
    const doc = await readCheckpointFile(modelId, epoch, false);
    return doc && { epoch: doc.epoch, createdAt: doc.createdAt, metrics: doc.metrics };
  }

  /** Removes directories left by writers that crashed mid-save (old enough that no live writer owns them). */
  function sweepLeftoversSync(dir: string): void {
    const now = Date.now();
    for (const name of fsSync.readdirSync(dir)) {
      if (!name.startsWith(TMP_PREFIX)) continue;
      const full = path.join(dir, name);
      const stats = fsSync.statSync(full, { throwIfNoEntry: false });
      if (stats && now - stats.mtimeMs > STALE_LEFTOVER_MS) fsSync.rmSync(full, { recursive: true, force: true });
    }
  }

  async function readModel(modelId: string): Promise<ModelRecord | null> {
    return readJson<ModelRecord>(modelPath(modelId));
  }

  async function writeModel(record: ModelRecord): Promise<void> {
    await fs.mkdir(modelDir(record.modelId), { recursive: true });
    await writeFileAtomic(modelPath(record.modelId), JSON.stringify(record, null, 2));
  }

  return {
    async putDataset(info: DatasetInfo, data: DatasetData): Promise<void> {
      const id = requireId(info.id, 'dataset id');
      if (data.labels.length !== data.features.length) throw new Error('dataset labels and rows differ in count');
      // Rows first, info last: an info file always has its rows beside it.
      await writeFileAtomic(datasetDataPath(id), datasetJsonChunks(data));
      await writeFileAtomic(datasetInfoPath(id), JSON.stringify(info, null, 2));
    },

    async getDatasetInfo(id: string): Promise<DatasetInfo | null> {
      return isStorableId(id) ? readJson<DatasetInfo>(datasetInfoPath(id)) : null;
    },

    async getDatasetData(id: string): Promise<DatasetData | null> {
      return isStorableId(id) ? readJson<DatasetData>(datasetDataPath(id)) : null;
    },

    async putModel(record: ModelRecord): Promise<void> {
      const modelId = requireId(record.modelId, 'model id');
      await serialize(modelId, () => writeModel(record));
    },

    async getModel(modelId: string): Promise<ModelRecord | null> {
      return isStorableId(modelId) ? readModel(modelId) : null;
    },

    async listModels(): Promise<ModelRecord[]> {
      const names = (await fs.readdir(modelsDir)).filter(isStorableId);
      const records: ModelRecord[] = [];
      // Bounded parallelism: thousands of models must not open thousands of files at once.
      for (let i = 0; i < names.length; i += 32) {
        const batch = await Promise.all(names.slice(i, i + 32).map((n) => readModel(n)));
        for (const r of batch) if (r) records.push(r);
      }
      return records.sort((a, b) =>
        a.createdAt === b.createdAt ? (a.modelId < b.modelId ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1,
      );
    },

    async updateModel(modelId, patch): Promise<ModelRecord | null> {
      if (!isStorableId(modelId)) return null;
      // Serialized per model within this process; across processes the last writer wins.
      return serialize(modelId, async () => {
        const current = await readModel(modelId);
        if (!current) return null;
        const next: ModelRecord = {
          ...current,
          ...patch,
          modelId,
          updatedAt: patch.updatedAt ?? new Date().toISOString(),
        };
        await writeModel(next);
        return next;
      });
    },

    async putCheckpoint(doc: CheckpointDocument, state: TrainingState, artifacts: TfjsArtifacts): Promise<void> {
      const modelId = requireId(doc.modelId, 'model id');
      if (!isEpoch(doc.epoch)) throw new Error(`invalid checkpoint epoch: ${JSON.stringify(doc.epoch)}`);
      if (state.modelId !== modelId || state.epoch !== doc.epoch) {
        throw new Error('training state does not belong to this checkpoint');
      }
      const dir = checkpointsDir(modelId);
      // Synchronous (see writeNewFileSync): nothing else in this process runs between its steps, so two
      // saves of one model in one process cannot interleave either.
      fsSync.mkdirSync(dir, { recursive: true });
      sweepLeftoversSync(dir);
      const tmp = path.join(dir, `${TMP_PREFIX}${uniqueSuffix()}`);
      const final = epochDir(modelId, doc.epoch);
      try {
        fsSync.mkdirSync(tmp);
        // The document goes last: checkpoint.json marks a complete directory.
        writeNewFileSync(path.join(tmp, 'weights.bin'), artifacts.weightsBin);
        writeNewFileSync(path.join(tmp, 'model.json'), JSON.stringify(artifacts.modelJson));
        writeNewFileSync(path.join(tmp, 'training-state.json'), JSON.stringify(state, finiteReplacer));
        writeNewFileSync(path.join(tmp, 'checkpoint.json'), JSON.stringify(doc, finiteReplacer));
        fsyncDirSync(tmp);
      } catch (err) {
        fsSync.rmSync(tmp, { recursive: true, force: true });
        throw err;
      }
      // A saved epoch is immutable: a second save of it (a retried or orphaned trainer) keeps the first.
      // Resumed training is deterministic per epoch, so both hold the same state, and nothing is ever
      // moved aside, so no crash can leave the epoch missing.
      try {
        fsSync.renameSync(tmp, final);
      } catch (err) {
        fsSync.rmSync(tmp, { recursive: true, force: true });
        if (isErrno(err, 'ENOTEMPTY', 'EEXIST')) return;
        throw err;
      }
      fsyncDirSync(dir);
    },

    async listCheckpoints(modelId: string): Promise<CheckpointSummary[]> {
      if (!isStorableId(modelId)) return [];
      const summaries: CheckpointSummary[] = [];
      for (const epoch of await completedEpochs(modelId)) {
        const summary = await summaryOf(modelId, epoch);
        if (summary) summaries.push(summary);
      }
      return summaries;
    },

    async getCheckpoint(modelId: string, epoch: number | 'latest'): Promise<CheckpointDocument | null> {
      if (!isStorableId(modelId)) return null;
      if (epoch !== 'latest') return isEpoch(epoch) ? readCheckpointFile(modelId, epoch) : null;
      const epochs = await completedEpochs(modelId);
      for (let i = epochs.length - 1; i >= 0; i--) {
        const doc = await readCheckpointFile(modelId, epochs[i]);
        if (doc) return doc;
      }
      return null;
    },

    async getTrainingState(modelId: string, epoch: number): Promise<TrainingState | null> {
      if (!isStorableId(modelId) || !isEpoch(epoch)) return null;
      return readJson<TrainingState>(path.join(epochDir(modelId, epoch), 'training-state.json'));
    },

    async getArtifact(modelId: string, epoch: number, name: ArtifactName): Promise<Uint8Array | null> {
      if (!isStorableId(modelId) || !isEpoch(epoch) || !ARTIFACT_NAMES.includes(name)) return null;
      try {
        const buffer = await fs.readFile(path.join(epochDir(modelId, epoch), name));
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      } catch (err) {
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
        throw err;
      }
    },

    async checkWritable(): Promise<void> {
      const probe = path.join(root, `${TMP_PREFIX}probe-${uniqueSuffix()}`);
      try {
        await writeNewFile(probe, 'probe');
      } finally {
        await fs.rm(probe, { force: true });
      }
    },
  };
}
