// Model records on the filesystem, one JSON document per model.
import fs from 'node:fs/promises';
import { readJson, writeFileAtomic } from '../util/atomic-file.js';
import { createKeyedSerializer } from '../util/keyed-serializer.js';
import { isStorableId, requireId, type FsLayout } from './fs-layout.js';
import type { ModelRecord, Store } from './store.js';

export type ModelStore = Pick<Store, 'putModel' | 'getModel' | 'listModels' | 'updateModel'>;

export function fsModelStore(layout: FsLayout): ModelStore {
  const serialize = createKeyedSerializer();

  async function readModel(modelId: string): Promise<ModelRecord | null> {
    return readJson<ModelRecord>(layout.modelPath(modelId));
  }

  async function writeModel(record: ModelRecord): Promise<void> {
    await fs.mkdir(layout.modelDir(record.modelId), { recursive: true });
    await writeFileAtomic(layout.modelPath(record.modelId), JSON.stringify(record, null, 2));
  }

  return {
    async putModel(record) {
      const modelId = requireId(record.modelId, 'model id');
      await serialize(modelId, () => writeModel(record));
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

    async updateModel(modelId, patch) {
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
  };
}
