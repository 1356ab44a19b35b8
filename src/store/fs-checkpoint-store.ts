// Checkpoints on the filesystem: one directory per epoch, filled under a temporary name and renamed into
// place with checkpoint.json written last, so a listed checkpoint is always complete. Parsed documents
// are kept in a bounded in-process cache keyed by the file's identity.
import fsSync, { type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { CheckpointDocument, TrainingState } from '../schemas/checkpoint.js';
import { TMP_PREFIX, fsyncDirSync, isErrno, readJson, uniqueSuffix, writeNewFileSync } from '../util/atomic-file.js';
import { Lru } from '../util/lru.js';
import { EPOCH_DIR_PATTERN, isEpoch, isStorableId, requireId, type FsLayout } from './fs-layout.js';
import type { ArtifactName, CheckpointSummary, Store } from './store.js';

export type CheckpointStore = Pick<
  Store,
  'putCheckpoint' | 'listCheckpoints' | 'getCheckpoint' | 'getTrainingState' | 'getArtifact'
>;

export interface CheckpointCacheOptions {
  /** Parsed checkpoint documents kept in memory (default 16). */
  checkpointCacheEntries?: number;
  /** Upper bound on the cached documents' total file size (default 128 MiB). */
  checkpointCacheBytes?: number;
}

/** Leftovers of crashed writers older than this are swept; younger ones may belong to a live writer. */
const STALE_LEFTOVER_MS = 10 * 60_000;
const ARTIFACT_NAMES: readonly ArtifactName[] = ['model.json', 'weights.bin'];

/** Rejects NaN and Infinity, which JSON.stringify would silently turn into null. */
function finiteReplacer(key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`refusing to store a non-finite number (${value}) at key "${key}"`);
  }
  return value;
}

/**
 * Identifies one written file. The store never rewrites an epoch, but DATA_DIR is shared with other
 * processes and may be restored from a backup: a changed file never gives a stale cache hit.
 */
function fileSignature(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

export function fsCheckpointStore(layout: FsLayout, options: CheckpointCacheOptions = {}): CheckpointStore {
  const docCache = new Lru<CheckpointDocument>(
    options.checkpointCacheEntries ?? 16,
    options.checkpointCacheBytes ?? 128 * 1024 * 1024,
  );
  // Summaries are tiny; keeping many makes repeated listings cheap for models with many epochs.
  const summaryCache = new Lru<CheckpointSummary>(10_000);

  /** Epoch directory names, ascending; readers then skip any without checkpoint.json (never ours: it is written last). */
  async function completedEpochs(modelId: string): Promise<number[]> {
    let names: string[];
    try {
      names = await fs.readdir(layout.checkpointsDir(modelId));
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return [];
      throw err;
    }
    const epochs = names.filter((n) => EPOCH_DIR_PATTERN.test(n)).map(Number).filter(isEpoch);
    return epochs.sort((a, b) => a - b);
  }

  /** Reads checkpoint.json through one handle so the signature and the content belong to the same file. */
  async function readCheckpointFile(modelId: string, epoch: number, cacheDoc = true): Promise<CheckpointDocument | null> {
    const file = path.join(layout.epochDir(modelId, epoch), 'checkpoint.json');
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
    const file = path.join(layout.epochDir(modelId, epoch), 'checkpoint.json');
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

  return {
    async putCheckpoint(doc, state, artifacts) {
      const modelId = requireId(doc.modelId, 'model id');
      if (!isEpoch(doc.epoch)) throw new Error(`invalid checkpoint epoch: ${JSON.stringify(doc.epoch)}`);
      if (state.modelId !== modelId || state.epoch !== doc.epoch) {
        throw new Error('training state does not belong to this checkpoint');
      }
      const dir = layout.checkpointsDir(modelId);
      // Synchronous (see atomic-file.ts): nothing else in this process runs between its steps, so two
      // saves of one model in one process cannot interleave either.
      fsSync.mkdirSync(dir, { recursive: true });
      sweepLeftoversSync(dir);
      const tmp = path.join(dir, `${TMP_PREFIX}${uniqueSuffix()}`);
      const final = layout.epochDir(modelId, doc.epoch);
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

    async listCheckpoints(modelId) {
      if (!isStorableId(modelId)) return [];
      const summaries: CheckpointSummary[] = [];
      for (const epoch of await completedEpochs(modelId)) {
        const summary = await summaryOf(modelId, epoch);
        if (summary) summaries.push(summary);
      }
      return summaries;
    },

    async getCheckpoint(modelId, epoch) {
      if (!isStorableId(modelId)) return null;
      if (epoch !== 'latest') return isEpoch(epoch) ? readCheckpointFile(modelId, epoch) : null;
      const epochs = await completedEpochs(modelId);
      for (let i = epochs.length - 1; i >= 0; i--) {
        const doc = await readCheckpointFile(modelId, epochs[i]);
        if (doc) return doc;
      }
      return null;
    },

    async getTrainingState(modelId, epoch) {
      if (!isStorableId(modelId) || !isEpoch(epoch)) return null;
      return readJson<TrainingState>(path.join(layout.epochDir(modelId, epoch), 'training-state.json'));
    },

    async getArtifact(modelId, epoch, name) {
      if (!isStorableId(modelId) || !isEpoch(epoch) || !ARTIFACT_NAMES.includes(name)) return null;
      try {
        const buffer = await fs.readFile(path.join(layout.epochDir(modelId, epoch), name));
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      } catch (err) {
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
        throw err;
      }
    },
  };
}
