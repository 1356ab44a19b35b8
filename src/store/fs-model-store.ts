// Model records on the filesystem, one JSON document per model, written atomically at submission and by
// its job (the probe batch's size, the test metrics). Deleting a model renames its directory out of the
// listing first (one atomic rename), then removes the files.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, isErrno, readJson, uniqueSuffix, writeFileAtomic } from '../util/atomic-file.js';
import { mapInBatches } from '../util/map-in-batches.js';
import { isStorableId, requireId, type FsLayout } from './fs-layout.js';
import { ModelGoneError, type ModelRecord, type Store } from './store.js';

export type ModelStore = Pick<Store, 'putModel' | 'updateModel' | 'getModel' | 'listModels' | 'deleteModel'>;

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

    async updateModel(record) {
      const modelId = requireId(record.modelId, 'model id');
      // No mkdir: a worker finishing a job that was just deleted must not bring its model back.
      if ((await readModel(modelId)) === null) throw new ModelGoneError(modelId);
      await writeFileAtomic(layout.modelPath(modelId), JSON.stringify(record, null, 2));
    },

    async getModel(modelId) {
      return isStorableId(modelId) ? readModel(modelId) : null;
    },

    async listModels() {
      const names = (await fs.readdir(layout.modelsDir)).filter(isStorableId);
      // Bounded: thousands of models must not open thousands of files at once.
      const records = (await mapInBatches(names, 32, readModel)).filter((r): r is ModelRecord => r !== null);
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
