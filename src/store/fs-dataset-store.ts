// Datasets on the filesystem: the rows, then the info document beside them.
import fs from 'node:fs/promises';
import type { DatasetData, DatasetInfo } from '../schemas/dataset.js';
import { fsyncDir, isErrno, readJson, writeFileAtomic } from '../util/atomic-file.js';
import { isStorableId, requireId, type FsLayout } from './fs-layout.js';
import type { Store } from './store.js';

export type DatasetStore = Pick<Store, 'putDataset' | 'getDatasetInfo' | 'getDatasetData' | 'listDatasets' | 'deleteDataset'>;

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

const INFO_SUFFIX = '.json';
const DATA_SUFFIX = '.data.json';

export function fsDatasetStore(layout: FsLayout): DatasetStore {
  return {
    async putDataset(info, data) {
      const id = requireId(info.id, 'dataset id');
      if (data.labels.length !== data.features.length) throw new Error('dataset labels and rows differ in count');
      // Rows first, info last: an info file always has its rows beside it.
      await writeFileAtomic(layout.datasetDataPath(id), datasetJsonChunks(data));
      await writeFileAtomic(layout.datasetInfoPath(id), JSON.stringify(info, null, 2));
    },

    async getDatasetInfo(id) {
      return isStorableId(id) ? readJson<DatasetInfo>(layout.datasetInfoPath(id)) : null;
    },

    async getDatasetData(id) {
      return isStorableId(id) ? readJson<DatasetData>(layout.datasetDataPath(id)) : null;
    },

    async listDatasets() {
      const ids = (await fs.readdir(layout.datasetsDir))
        .filter((n) => n.endsWith(INFO_SUFFIX) && !n.endsWith(DATA_SUFFIX))
        .map((n) => n.slice(0, -INFO_SUFFIX.length))
        .filter(isStorableId);
      const infos: DatasetInfo[] = [];
      for (let i = 0; i < ids.length; i += 32) {
        for (const info of await Promise.all(ids.slice(i, i + 32).map((id) => readJson<DatasetInfo>(layout.datasetInfoPath(id))))) {
          if (info) infos.push(info);
        }
      }
      return infos;
    },

    async deleteDataset(id) {
      if (!isStorableId(id)) return false;
      // The info first: without it the dataset is unknown to every reader, then its rows go.
      try {
        await fs.rm(layout.datasetInfoPath(id));
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return false;
        throw err;
      }
      await fsyncDir(layout.datasetsDir);
      await fs.rm(layout.datasetDataPath(id), { force: true });
      return true;
    },
  };
}
