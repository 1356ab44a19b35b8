// Experiment records on the filesystem: experiments/<experimentId>.json, written once (atomically) when
// the experiment is created. What its variants did is read from the queue and their models, never here.
import fs from 'node:fs/promises';
import { isErrno, readJson, writeFileAtomic, fsyncDir } from '../util/atomic-file.js';
import { isStorableId, requireId, type FsLayout } from './fs-layout.js';
import type { ExperimentRecord } from '../schemas/experiment.js';
import type { Store } from './store.js';

export type ExperimentStore = Pick<Store, 'putExperiment' | 'getExperiment' | 'listExperiments' | 'deleteExperiment'>;

const RECORD = /^([A-Za-z0-9_-]{1,128})\.json$/;

export function fsExperimentStore(layout: FsLayout): ExperimentStore {
  const read = (id: string) => readJson<ExperimentRecord>(layout.experimentPath(id));
  return {
    async putExperiment(record) {
      // Made with the first experiment: a data directory without any has no experiments/ directory.
      if (await fs.mkdir(layout.experimentsDir, { recursive: true })) await fsyncDir(layout.root);
      await writeFileAtomic(layout.experimentPath(requireId(record.experimentId, 'experiment id')), JSON.stringify(record, null, 2));
    },

    async getExperiment(experimentId) {
      return isStorableId(experimentId) ? read(experimentId) : null;
    },

    async listExperiments() {
      const names = await fs.readdir(layout.experimentsDir).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT')) return [] as string[];
        throw err;
      });
      const ids = names.flatMap((n) => RECORD.exec(n)?.[1] ?? []);
      const records: ExperimentRecord[] = [];
      for (let i = 0; i < ids.length; i += 32) {
        for (const r of await Promise.all(ids.slice(i, i + 32).map(read))) if (r) records.push(r);
      }
      return records.sort((a, b) =>
        a.createdAt === b.createdAt ? (a.experimentId < b.experimentId ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1,
      );
    },

    async deleteExperiment(experimentId) {
      if (!isStorableId(experimentId)) return false;
      try {
        await fs.unlink(layout.experimentPath(experimentId));
      } catch (err) {
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false;
        throw err;
      }
      await fsyncDir(layout.experimentsDir);
      return true;
    },
  };
}
