// Checkpoints on the filesystem: one directory per epoch (checkpoint-files.ts says what is in it), filled
// under a temporary name and renamed into place with checkpoint.json written last, so a listed checkpoint
// is always complete. Retention renames a pruned directory out of the listing before removing it, under
// the model's lock, which alias changes take too (an alias never names a pruned checkpoint). Loaded
// checkpoints are kept in a bounded in-process cache, weighed by their bytes and keyed by the file's
// identity.
import fsSync, { type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { TrainingState } from '../schemas/checkpoint.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { TMP_PREFIX, fsyncDirSync, isErrno, uniqueSuffix, writeFileAtomic, writeFileAtomicSync, writeNewFileSync } from '../util/atomic-file.js';
import { Lru } from '../util/lru.js';
import type { CheckpointDocument } from '../schemas/checkpoint.js';
import { fromDocument } from '../checkpoint/document.js';
import {
  decodeCheckpoint,
  decodeLegacyTrainingState,
  decodeTrainingState,
  encodeCheckpoint,
  encodeTrainingState,
  isLegacyDocument,
  parseCheckpointFile,
  type CheckpointFile,
} from './checkpoint-files.js';
import { appendEpochSync, readEpochLog, reconcileEpochLog } from './epoch-log.js';
import { appendBnStatsSync, readBnStatsLog, reconcileBnStatsLog } from './bn-stats-log.js';
import { EPOCH_DIR_PATTERN, epochDirName, isEpoch, isStorableId, requireId, type FsLayout } from './fs-layout.js';
import { lock, tryLockSync } from './model-lock.js';
import { bestCheckpoint, rankCheckpoints } from './best-checkpoint.js';
import { isAliasName } from '../schemas/checkpoint-ref.js';
import { AliasTargetError, ModelBusyError, ModelGoneError, type CheckpointSummary, type RetentionPolicy, type Store } from './store.js';

export type CheckpointStore = Pick<
  Store,
  | 'putCheckpoint'
  | 'listCheckpoints'
  | 'resolveEpoch'
  | 'getCheckpoint'
  | 'hasCheckpoint'
  | 'getTrainingState'
  | 'getArtifact'
  | 'pruneCheckpoints'
  | 'appendEpoch'
  | 'readEpochs'
  | 'reconcileEpochs'
  | 'appendBnStats'
  | 'bnStats'
  | 'reconcileBnStats'
  | 'getAliases'
  | 'setAlias'
  | 'deleteAlias'
> & {
  /** Forgets what the caches hold of a model (it was deleted). */
  forget(modelId: string): void;
};

export interface CheckpointCacheOptions {
  /** Loaded checkpoints kept in memory (default 16). */
  checkpointCacheEntries?: number;
  /** Upper bound on the cached checkpoints' total tensor bytes (default 256 MiB). */
  checkpointCacheBytes?: number;
}

/** Leftovers of crashed writers older than this are swept; younger ones may belong to a live writer. */
const STALE_LEFTOVER_MS = 10 * 60_000;
/** Prefix of a checkpoint directory being removed by retention (never listed: it starts with '.'). */
const PRUNED_PREFIX = '.pruned-';
/** Longest wait of an alias change for the model's lock (retention holds it for a few renames). */
const ALIAS_LOCK_WAIT_MS = 5000;
const CHECKPOINT_FILE = 'checkpoint.json';
const WEIGHTS_FILE = 'weights.bin';
const STATE_FILE = 'training-state.bin';
/** The training state and TF.js model.json of checkpoints written by earlier versions, read as they are. */
const LEGACY_STATE_FILE = 'training-state.json';
const LEGACY_MODEL_JSON = 'model.json';

/**
 * Identifies one written file. The store never rewrites an epoch, but DATA_DIR is shared with other
 * processes and may be restored from a backup: a changed file never gives a stale cache hit.
 */
function fileSignature(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

const summaryOfFile = (f: Pick<CheckpointDocument, 'epoch' | 'createdAt' | 'metrics'>): CheckpointSummary => ({
  epoch: f.epoch,
  createdAt: f.createdAt,
  metrics: f.metrics,
});

export function fsCheckpointStore(layout: FsLayout, options: CheckpointCacheOptions = {}): CheckpointStore {
  const cache = new Lru<Checkpoint>(options.checkpointCacheEntries ?? 16, options.checkpointCacheBytes ?? 256 * 1024 * 1024);
  // Summaries are tiny; keeping many makes repeated listings (and retention's look at metrics) cheap.
  const summaries = new Lru<CheckpointSummary>(10_000);

  function epochNames(names: string[]): number[] {
    return names.filter((n) => EPOCH_DIR_PATTERN.test(n)).map(Number).filter(isEpoch).sort((a, b) => a - b);
  }

  /** Epoch directory names, ascending; readers then skip any without checkpoint.json (never ours: it is written last). */
  async function epochDirs(modelId: string): Promise<number[]> {
    try {
      return epochNames(await fs.readdir(layout.checkpointsDir(modelId)));
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return [];
      throw err;
    }
  }

  const key = (modelId: string, epoch: number, stats: Stats) => `${modelId}/${epoch}/${fileSignature(stats)}`;

  /** checkpoint.json's content and identity through one handle, or null when the checkpoint is not there. */
  async function readCheckpointFile(modelId: string, epoch: number): Promise<{ file: CheckpointFile | CheckpointDocument; stats: Stats } | null> {
    let handle: FileHandle;
    try {
      handle = await fs.open(path.join(layout.epochDir(modelId, epoch), CHECKPOINT_FILE), 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
      throw err;
    }
    try {
      const stats = await handle.stat();
      const file = parseCheckpointFile(await handle.readFile('utf8'));
      if (file.modelId !== modelId || file.epoch !== epoch) {
        throw new Error(`corrupt checkpoint ${modelId}/${epoch}: its checkpoint.json names ${file.modelId}/${file.epoch}`);
      }
      summaries.set(key(modelId, epoch, stats), summaryOfFile(file));
      return { file, stats };
    } finally {
      await handle.close();
    }
  }

  async function summaryOf(modelId: string, epoch: number): Promise<CheckpointSummary | null> {
    try {
      const cached = summaries.get(key(modelId, epoch, await fs.stat(path.join(layout.epochDir(modelId, epoch), CHECKPOINT_FILE))));
      if (cached) return cached;
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
      throw err;
    }
    const read = await readCheckpointFile(modelId, epoch);
    return read && summaryOfFile(read.file);
  }

  function summaryOfSync(modelId: string, epoch: number): CheckpointSummary | null {
    const file = path.join(layout.epochDir(modelId, epoch), CHECKPOINT_FILE);
    const stats = fsSync.statSync(file, { throwIfNoEntry: false });
    if (!stats) return null;
    const k = key(modelId, epoch, stats);
    const cached = summaries.get(k);
    if (cached) return cached;
    const summary = summaryOfFile(parseCheckpointFile(fsSync.readFileSync(file, 'utf8')));
    summaries.set(k, summary);
    return summary;
  }

  async function hasCheckpoint(modelId: string, epoch: number): Promise<boolean> {
    if (!isStorableId(modelId) || !isEpoch(epoch)) return false;
    try {
      await fs.access(path.join(layout.epochDir(modelId, epoch), CHECKPOINT_FILE));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false;
      throw err;
    }
  }

  async function listSummaries(modelId: string): Promise<CheckpointSummary[]> {
    const out: CheckpointSummary[] = [];
    for (const epoch of await epochDirs(modelId)) {
      const summary = await summaryOf(modelId, epoch);
      if (summary) out.push(summary);
    }
    return out;
  }

  async function latestEpoch(modelId: string): Promise<number | null> {
    const epochs = await epochDirs(modelId);
    for (let i = epochs.length - 1; i >= 0; i--) if (await hasCheckpoint(modelId, epochs[i])) return epochs[i];
    return null;
  }

  async function readAliases(modelId: string): Promise<Record<string, number>> {
    try {
      return JSON.parse(await fs.readFile(layout.aliasesPath(modelId), 'utf8')) as Record<string, number>;
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return {};
      throw err;
    }
  }

  function readAliasesSync(modelId: string): Record<string, number> {
    try {
      return JSON.parse(fsSync.readFileSync(layout.aliasesPath(modelId), 'utf8')) as Record<string, number>;
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return {};
      throw err;
    }
  }

  /** Runs `change` on the aliases under the model's lock and writes them back when it says so. */
  async function changeAliases<T>(modelId: string, change: (aliases: Record<string, number>) => Promise<{ write: boolean; result: T }>): Promise<T> {
    const lockFile = layout.lockPath(modelId);
    let release: (() => Promise<void>) | null;
    try {
      release = await lock(lockFile, ALIAS_LOCK_WAIT_MS);
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw new ModelGoneError(modelId);
      throw err;
    }
    if (!release) throw new ModelBusyError(modelId, 1);
    try {
      const aliases = await readAliases(modelId);
      const { write, result } = await change(aliases);
      if (write) await writeFileAtomic(layout.aliasesPath(modelId), JSON.stringify(aliases, null, 2));
      return result;
    } finally {
      await release();
    }
  }

  /**
   * Removes what crashed writers and pruners left (old enough that no live one owns it): temporary and
   * pruned directories, and epoch directories without their document (never listed).
   */
  function sweepLeftoversSync(dir: string, names: string[]): void {
    const now = Date.now();
    for (const name of names) {
      const full = path.join(dir, name);
      const leftover =
        name.startsWith(TMP_PREFIX) || name.startsWith(PRUNED_PREFIX) || (EPOCH_DIR_PATTERN.test(name) && !fsSync.existsSync(path.join(full, CHECKPOINT_FILE)));
      if (!leftover) continue;
      const stats = fsSync.statSync(full, { throwIfNoEntry: false });
      if (stats && now - stats.mtimeMs > STALE_LEFTOVER_MS) fsSync.rmSync(full, { recursive: true, force: true });
    }
  }

  return {
    async putCheckpoint(checkpoint, state, tfjs) {
      const modelId = requireId(checkpoint.modelId, 'model id');
      if (!isEpoch(checkpoint.epoch)) throw new Error(`invalid checkpoint epoch: ${JSON.stringify(checkpoint.epoch)}`);
      if (state.modelId !== modelId || state.epoch !== checkpoint.epoch) {
        throw new Error('training state does not belong to this checkpoint');
      }
      // Synchronous (see atomic-file.ts): nothing else in this process runs between its steps, so two
      // saves of one model in one process cannot interleave either.
      const encoded = encodeCheckpoint(checkpoint, tfjs);
      const stateBytes = encodeTrainingState(state);
      const dir = layout.checkpointsDir(modelId);
      if (!fsSync.existsSync(layout.modelDir(modelId))) throw new ModelGoneError(modelId);
      try {
        fsSync.mkdirSync(dir);
        fsyncDirSync(layout.modelDir(modelId));
      } catch (err) {
        if (isErrno(err, 'ENOENT')) throw new ModelGoneError(modelId);
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      if (tfjs && !fsSync.existsSync(layout.tfjsModelPath(modelId))) writeFileAtomicSync(layout.tfjsModelPath(modelId), JSON.stringify(tfjs));
      const names = fsSync.readdirSync(dir);
      sweepLeftoversSync(dir, names);
      const tmp = path.join(dir, `${TMP_PREFIX}${uniqueSuffix()}`);
      const final = layout.epochDir(modelId, checkpoint.epoch);
      try {
        fsSync.mkdirSync(tmp);
        writeNewFileSync(path.join(tmp, WEIGHTS_FILE), encoded.weights);
        writeNewFileSync(path.join(tmp, STATE_FILE), stateBytes);
        // The document goes last: checkpoint.json marks a complete directory.
        writeNewFileSync(path.join(tmp, CHECKPOINT_FILE), encoded.json);
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
      // Only the newest checkpoint is resumed from: older ones give up their optimizer state (removing
      // it needs no fsync: a state that comes back after a crash is merely unused).
      for (const epoch of epochNames(names)) {
        if (epoch < checkpoint.epoch) fsSync.rmSync(path.join(layout.epochDir(modelId, epoch), STATE_FILE), { force: true });
      }
    },

    async listCheckpoints(modelId) {
      return isStorableId(modelId) ? listSummaries(modelId) : [];
    },

    async resolveEpoch(modelId, ref) {
      if (!isStorableId(modelId)) return null;
      if (ref === 'latest') return latestEpoch(modelId);
      if (ref === 'best') return bestCheckpoint(await listSummaries(modelId));
      if (typeof ref === 'number') return (await hasCheckpoint(modelId, ref)) ? ref : null;
      if (!isAliasName(ref)) return null;
      const epoch = (await readAliases(modelId))[ref];
      return isEpoch(epoch) && (await hasCheckpoint(modelId, epoch)) ? epoch : null;
    },

    async getCheckpoint(modelId, epoch) {
      if (!isStorableId(modelId) || !isEpoch(epoch)) return null;
      const dir = layout.epochDir(modelId, epoch);
      let handle: FileHandle;
      try {
        handle = await fs.open(path.join(dir, CHECKPOINT_FILE), 'r');
      } catch (err) {
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
        throw err;
      }
      let file: CheckpointFile | CheckpointDocument;
      let k: string;
      let size: number;
      try {
        const stats = await handle.stat();
        k = key(modelId, epoch, stats);
        size = stats.size;
        const hit = cache.get(k);
        if (hit) return hit;
        file = parseCheckpointFile(await handle.readFile('utf8'));
        summaries.set(k, summaryOfFile(file));
      } finally {
        await handle.close();
      }
      if (file.modelId !== modelId || file.epoch !== epoch) {
        throw new Error(`corrupt checkpoint ${modelId}/${epoch}: its checkpoint.json names ${file.modelId}/${file.epoch}`);
      }
      if (isLegacyDocument(file)) {
        const legacy = fromDocument(file);
        cache.set(k, legacy, size);
        return legacy;
      }
      let weights: Buffer;
      try {
        weights = await fs.readFile(path.join(dir, WEIGHTS_FILE));
      } catch (err) {
        // Pruned or deleted between the two reads: the checkpoint is gone, not broken.
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
        throw err;
      }
      const checkpoint = decodeCheckpoint(file, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
      cache.set(k, checkpoint, weights.byteLength);
      return checkpoint;
    },

    hasCheckpoint,

    async getTrainingState(modelId, epoch) {
      if (!isStorableId(modelId) || !isEpoch(epoch)) return null;
      const dir = layout.epochDir(modelId, epoch);
      const read = async (): Promise<TrainingState | null> => {
        try {
          const bytes = await fs.readFile(path.join(dir, STATE_FILE));
          return decodeTrainingState(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        } catch (err) {
          if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
        }
        try {
          return decodeLegacyTrainingState(await fs.readFile(path.join(dir, LEGACY_STATE_FILE), 'utf8'));
        } catch (err) {
          if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null;
          throw err;
        }
      };
      const state = await read();
      if (state && (state.modelId !== modelId || state.epoch !== epoch)) throw new Error(`corrupt training state ${modelId}/${epoch}`);
      return state;
    },

    async getArtifact(modelId, epoch, name) {
      if (!isStorableId(modelId) || !isEpoch(epoch)) return null;
      const files =
        name === 'weights.bin'
          ? [path.join(layout.epochDir(modelId, epoch), WEIGHTS_FILE)]
          : name === 'model.json'
            ? [layout.tfjsModelPath(modelId), path.join(layout.epochDir(modelId, epoch), LEGACY_MODEL_JSON)]
            : [];
      if (files.length === 0 || !(await hasCheckpoint(modelId, epoch))) return null;
      for (const file of files) {
        try {
          const buffer = await fs.readFile(file);
          return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
        } catch (err) {
          if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
        }
      }
      return null;
    },

    async pruneCheckpoints(modelId, policy: RetentionPolicy) {
      requireId(modelId, 'model id');
      const dir = layout.checkpointsDir(modelId);
      if (!fsSync.existsSync(dir)) {
        if (!fsSync.existsSync(layout.modelDir(modelId))) throw new ModelGoneError(modelId);
        return [];
      }
      let release: (() => void) | null;
      try {
        release = tryLockSync(layout.lockPath(modelId));
      } catch (err) {
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw new ModelGoneError(modelId);
        throw err;
      }
      if (!release) return []; // aliases are changing right now: prune at the next call
      const pruned: { epoch: number; to: string }[] = [];
      try {
        const epochs = epochNames(fsSync.readdirSync(dir)).filter((e) => summaryOfSync(modelId, e) !== null);
        const keep = new Set<number>(epochs.slice(-Math.max(1, policy.keepLast)));
        const scored = epochs.map((epoch) => ({ epoch, metrics: (summaryOfSync(modelId, epoch) as CheckpointSummary).metrics }));
        for (const epoch of rankCheckpoints(scored, policy.by).slice(0, policy.keepBest)) keep.add(epoch);
        for (const epoch of Object.values(readAliasesSync(modelId))) keep.add(epoch);
        for (const epoch of epochs) {
          if (keep.has(epoch)) continue;
          const to = path.join(dir, `${PRUNED_PREFIX}${epochDirName(epoch)}-${uniqueSuffix()}`);
          fsSync.renameSync(layout.epochDir(modelId, epoch), to);
          pruned.push({ epoch, to });
        }
      } finally {
        release();
      }
      // Gone from the listing (the rename) before any file goes, and checkpoint.json first: metadata changes
      // reach the disk in order, so even a crash that undoes the rename leaves no listed half checkpoint
      // (a directory without its document is never listed, and is swept once stale).
      for (const { to } of pruned) {
        fsSync.rmSync(path.join(to, CHECKPOINT_FILE), { force: true });
        for (const name of fsSync.readdirSync(to)) fsSync.unlinkSync(path.join(to, name));
        fsSync.rmdirSync(to);
      }
      return pruned.map((p) => p.epoch);
    },

    async appendEpoch(modelId, metrics) {
      requireId(modelId, 'model id');
      if (!fsSync.existsSync(layout.modelDir(modelId))) throw new ModelGoneError(modelId);
      appendEpochSync(layout.epochLogPath(modelId), metrics);
    },

    async readEpochs(modelId, fromByte = 0) {
      if (!isStorableId(modelId)) return { records: [], nextByte: 0 };
      return readEpochLog(layout.epochLogPath(modelId), fromByte);
    },

    async reconcileEpochs(modelId, lastSaved, lastMetrics) {
      requireId(modelId, 'model id');
      return reconcileEpochLog(layout.epochLogPath(modelId), lastSaved, lastMetrics);
    },

    async appendBnStats(modelId, stats) {
      requireId(modelId, 'model id');
      if (!fsSync.existsSync(layout.modelDir(modelId))) throw new ModelGoneError(modelId);
      appendBnStatsSync(layout.bnStatsPath(modelId), stats);
    },

    async bnStats(modelId) {
      return isStorableId(modelId) ? readBnStatsLog(layout.bnStatsPath(modelId)) : [];
    },

    async reconcileBnStats(modelId, lastSaved) {
      requireId(modelId, 'model id');
      return reconcileBnStatsLog(layout.bnStatsPath(modelId), lastSaved);
    },

    async getAliases(modelId) {
      return isStorableId(modelId) ? readAliases(modelId) : {};
    },

    async setAlias(modelId, name, epoch) {
      requireId(modelId, 'model id');
      if (!isAliasName(name)) throw new Error(`invalid alias name: ${JSON.stringify(name)}`);
      await changeAliases(modelId, async (aliases) => {
        // Checked under the lock that retention prunes under: the checkpoint cannot go in between.
        if (!isEpoch(epoch) || !(await hasCheckpoint(modelId, epoch))) throw new AliasTargetError(modelId, epoch);
        aliases[name] = epoch;
        return { write: true, result: undefined };
      });
    },

    async deleteAlias(modelId, name) {
      if (!isStorableId(modelId) || !isAliasName(name)) return false;
      return changeAliases(modelId, async (aliases) => {
        if (!(name in aliases)) return { write: false, result: false };
        delete aliases[name];
        return { write: true, result: true };
      });
    },

    forget(modelId) {
      cache.deleteWhere((k) => k.startsWith(`${modelId}/`));
      summaries.deleteWhere((k) => k.startsWith(`${modelId}/`));
    },
  };
}
