// Where the filesystem store keeps what, under DATA_DIR:
//   datasets/<id>.json (the info, written last), datasets/<id>/{train,test}-{x.u8|x.f32,y.f32} (binary rows;
//   datasets/<id>.data.json holds the rows of datasets stored before the binary format, as JSON)
//   models/<modelId>/model.json               the model record (spec, training options, dataset, times)
//   models/<modelId>/tfjs-model.json          TF.js topology + weights manifest, written once per model
//   models/<modelId>/epochs.jsonl             one line of metrics per trained epoch, never pruned
//   models/<modelId>/aliases.json             alias name -> epoch
//   models/<modelId>/.lock                    held while aliases change or retention prunes
//   experiments/<experimentId>.json           an experiment: its settings and its variants' job and model ids
//   models/<modelId>/checkpoints/<epoch, 6 digits>/
//       checkpoint.json                       the document without values: tensors are references into
//       weights.bin                           all tensors, float32 little-endian (the TF.js weights.bin)
//       training-state.bin                    optimizer state, in the newest checkpoint only
// Every path is built here from validated segments. Names starting with '.' are never listed: temporary
// writes, checkpoints being pruned and models being deleted.
import path from 'node:path';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const EPOCH_DIR_PATTERN = /^\d{6,}$/;

/** True for ids that may become a path segment. `builtin:` datasets never reach the disk. */
export function isStorableId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

export function requireId(id: unknown, what: string): string {
  if (!isStorableId(id)) throw new Error(`invalid ${what}: ${JSON.stringify(id)}`);
  return id;
}

export function isEpoch(epoch: unknown): epoch is number {
  return typeof epoch === 'number' && Number.isSafeInteger(epoch) && epoch >= 1;
}

export function epochDirName(epoch: number): string {
  return String(epoch).padStart(6, '0');
}

export interface FsLayout {
  root: string;
  datasetsDir: string;
  modelsDir: string;
  experimentsDir: string;
  experimentPath(experimentId: string): string;
  datasetInfoPath(id: string): string;
  /** JSON rows of a dataset stored before the binary format (read, never written). */
  datasetDataPath(id: string): string;
  datasetDir(id: string): string;
  modelDir(modelId: string): string;
  modelPath(modelId: string): string;
  tfjsModelPath(modelId: string): string;
  epochLogPath(modelId: string): string;
  bnStatsPath(modelId: string): string;
  aliasesPath(modelId: string): string;
  lockPath(modelId: string): string;
  checkpointsDir(modelId: string): string;
  epochDir(modelId: string, epoch: number): string;
}

export function fsLayout(dataDir: string): FsLayout {
  const root = path.resolve(dataDir);
  /** The containment check is defence in depth: the segments are validated before they get here. */
  function inside(...segments: string[]): string {
    const full = path.join(root, ...segments);
    const rel = path.relative(root, full);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw new Error('path escapes the data directory');
    return full;
  }
  return {
    root,
    datasetsDir: path.join(root, 'datasets'),
    modelsDir: path.join(root, 'models'),
    experimentsDir: path.join(root, 'experiments'),
    experimentPath: (id) => inside('experiments', `${id}.json`),
    datasetInfoPath: (id) => inside('datasets', `${id}.json`),
    datasetDataPath: (id) => inside('datasets', `${id}.data.json`),
    datasetDir: (id) => inside('datasets', id),
    modelDir: (modelId) => inside('models', modelId),
    modelPath: (modelId) => inside('models', modelId, 'model.json'),
    tfjsModelPath: (modelId) => inside('models', modelId, 'tfjs-model.json'),
    epochLogPath: (modelId) => inside('models', modelId, 'epochs.jsonl'),
    bnStatsPath: (modelId) => inside('models', modelId, 'bn-stats.jsonl'),
    aliasesPath: (modelId) => inside('models', modelId, 'aliases.json'),
    lockPath: (modelId) => inside('models', modelId, '.lock'),
    checkpointsDir: (modelId) => inside('models', modelId, 'checkpoints'),
    epochDir: (modelId, epoch) => inside('models', modelId, 'checkpoints', epochDirName(epoch)),
  };
}
