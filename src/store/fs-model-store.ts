// Model records on the filesystem, one JSON document per model, written atomically at submission and by
// its job (the probe batch's size, the test metrics). Deleting a model renames its directory out of the
// listing first (one atomic rename), then removes the files.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, isErrno, readJson, uniqueSuffix, writeFileAtomic } from '../util/atomic-file.js';
import { isStorableId, requireId, type FsLayout } from './fs-layout.js';
import type { ModelRecord, Store } from './store.js';

export type ModelStore = Pick<Store, 'putModel' | 'getModel' | 'listModels' | 'deleteModel'>;

/** Prefix of a model directory being deleted: never listed (ids never start with '.'). */
const DELETED_PREFIX = '.deleted-';

export function fsModelStore(layout: FsLayout, onDelete: (modelId: string) => void): ModelStore {
  async function readModel(modelId: string): Promise<ModelRecord | null> {
    return readJson<ModelRecord>(layout.modelPath(modelId));
  }

  return {
    async putModel(record) {
      const modelId = requireId(record.modelId, 'model id');
      const created = await fs.mkdir(layout.modelDir(modelId), { recursive: true });
      if (created) await fsyncDir(layout.modelsDir);
      await writeFileAtomic(layout.modelPath(modelId), JSON.stringify(record, null, 2));
    },

    async getModel(modelId) {
      return isStorableId(modelId) ? readModel(modelId) : null;
    },

    async listModels() {
      const names = (await fs.readdir(layout.modelsDir)).filter(isStorableId);
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

    async deleteModel(modelId) {
      if (!isStorableId(modelId)) return false;
      const gone = path.join(layout.modelsDir, `${DELETED_PREFIX}${modelId}-${uniqueSuffix()}`);
      try {
        await fs.rename(layout.modelDir(modelId), gone);
      } catch (err) {
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false;
        throw err;
      }
      await fsyncDir(layout.modelsDir);
      onDelete(modelId);
      await fs.rm(gone, { recursive: true, force: true });
      return true;
    },
  };
}
