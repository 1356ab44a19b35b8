// Datasets on the filesystem: the rows, then the info document beside them.
import type { DatasetData, DatasetInfo } from '../schemas/dataset.js';
import { readJson, writeFileAtomic } from '../util/atomic-file.js';
import { isStorableId, requireId, type FsLayout } from './fs-layout.js';
import type { Store } from './store.js';

export type DatasetStore = Pick<Store, 'putDataset' | 'getDatasetInfo' | 'getDatasetData'>;

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
  };
}
