// The filesystem Store: datasets, model records and checkpoints under one data directory (fs-layout.ts).
// Several processes (API, workers) share DATA_DIR, so nothing mutable is cached and every write is
// atomic (util/atomic-file.ts).
import fs from 'node:fs/promises';
import path from 'node:path';
import { TMP_PREFIX, uniqueSuffix, writeNewFile } from '../util/atomic-file.js';
import { fsCheckpointStore, type CheckpointCacheOptions } from './fs-checkpoint-store.js';
import { fsDatasetStore } from './fs-dataset-store.js';
import { fsExperimentStore } from './fs-experiment-store.js';
import { fsLayout } from './fs-layout.js';
import { fsModelStore } from './fs-model-store.js';
import type { Store } from './store.js';

export { isStorableId } from './fs-layout.js';

export type FsStoreOptions = CheckpointCacheOptions;

/**
 * Opens (and creates) a store under dataDir. Checkpoints may be served from an in-process cache, so
 * callers must treat returned checkpoints as read-only.
 */
export async function createFsStore(dataDir: string, options: FsStoreOptions = {}): Promise<Store> {
  const layout = fsLayout(dataDir);
  await fs.mkdir(layout.datasetsDir, { recursive: true });
  await fs.mkdir(layout.modelsDir, { recursive: true });
  const { forget, ...checkpoints } = fsCheckpointStore(layout, options);
  return {
    ...fsDatasetStore(layout),
    ...fsModelStore(layout, forget),
    ...checkpoints,
    ...fsExperimentStore(layout),

    async checkWritable(): Promise<void> {
      const probe = path.join(layout.root, `${TMP_PREFIX}probe-${uniqueSuffix()}`);
      try {
        await writeNewFile(probe, 'probe');
      } finally {
        await fs.rm(probe, { force: true });
      }
    },
  };
}
