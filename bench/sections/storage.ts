// Storage: what a checkpoint costs (save time, bytes on disk against the raw float32 it holds) for the
// MNIST-size network and for a model at MAX_PARAMETERS, and the wall time of an epoch at epochs 10, 300
// and 1,000 of one small-network job through a real job (which stays flat: nothing per epoch grows with
// the epochs before it).
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parameterCount, resolveSpec, resolveTraining, train, type SavedCheckpoint } from '../../src/model/index.js';
import { createFsStore } from '../../src/store/fs-store.js';
import { tensorBytes } from '../../src/checkpoint/checkpoint.js';
import { loadConfig } from '../../src/config/config.js';
import { startService } from '../lib/service.js';
import { quantile, round } from '../lib/stats.js';
import { MNIST, SMALL, mnistLike } from '../lib/workloads.js';
import { partFromRows } from '../../src/datasets/arrays.js';

export interface CheckpointCost {
  net: string;
  parameters: number;
  /** median save (the training child's putCheckpoint: write, fsync, rename, fsync the directory) */
  saveMs: number;
  /** the newest checkpoint's directory, optimizer state included */
  newestBytes: number;
  /** an older checkpoint's directory (weights and document only) */
  olderBytes: number;
  /** newestBytes / the raw float32 bytes of its weights and optimizer moments */
  overRaw: number;
}

export interface EpochTime {
  epoch: number;
  /** median wall time between consecutive epochs' events around this epoch */
  ms: number;
}

export interface StorageSection {
  checkpoints: CheckpointCost[];
  longJob: { net: string; epochs: number; perEpoch: EpochTime[] };
}

const SAVES = 7;
const LONG_EPOCHS = 1000;
/** Epochs around each measured one (the median of their intervals is reported). */
const WINDOW = 10;

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const name of await fs.readdir(dir)) n += (await fs.stat(path.join(dir, name))).size;
  return n;
}

/** One epoch of training gives real tensors and optimizer state; then SAVES saves of them, timed. */
async function checkpointCost(name: string, inputDim: number, hidden: number[], classes: number, rows: number): Promise<CheckpointCost> {
  const task = classes === 1 ? 'binary' : 'multiclass';
  const training = resolveTraining({ epochs: 1, batchSize: 128, validationSplit: 0, seed: 1 });
  const spec = resolveSpec({ hidden, task }, { inputDim, outputDim: classes }, 1);
  let saved: SavedCheckpoint | undefined;
  await train({ modelId: 'bench', spec, training, data: ((m) => partFromRows(m.features, m.labels))(mnistLike(rows, inputDim, Math.max(2, classes))), onCheckpoint: (s) => void (saved = s) });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-bench-store-'));
  try {
    const store = await createFsStore(dir);
    await store.putModel({ modelId: 'bench', jobId: 'job_bench', datasetId: 'bench', spec, training, createdAt: '', updatedAt: '' });
    const times: number[] = [];
    for (let epoch = 1; epoch <= SAVES; epoch++) {
      const { checkpoint, state, tfjs } = saved as SavedCheckpoint;
      const t0 = performance.now();
      await store.putCheckpoint({ ...checkpoint, epoch }, { ...state, epoch }, tfjs);
      times.push(performance.now() - t0);
    }
    const epochDir = (e: number) => path.join(dir, 'models', 'bench', 'checkpoints', String(e).padStart(6, '0'));
    const newestBytes = await dirBytes(epochDir(SAVES));
    const s = saved as SavedCheckpoint;
    const raw = tensorBytes(s.checkpoint.layers) + s.state.optimizer.slots.reduce((n, slot) => n + slot.values.byteLength, 0);
    return {
      net: name,
      parameters: parameterCount(spec),
      saveMs: round(quantile([...times].sort((a, b) => a - b), 0.5), 1),
      newestBytes,
      olderBytes: await dirBytes(epochDir(1)),
      overRaw: round(newestBytes / raw, 4),
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Arrival times of the job's `epoch` events, by epoch (the SSE stream, read until the job ends). */
function epochArrivals(base: string, jobId: string): Promise<Map<number, number>> {
  return new Promise((resolve, reject) => {
    const at = new Map<number, number>();
    http.get(`${base}/v1/training-jobs/${jobId}/events`, { headers: { accept: 'text/event-stream' } }, (res) => {
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = performance.now();
        pending += chunk;
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          if (!block.includes('event: epoch')) continue;
          const data = block.split('\n').find((l) => l.startsWith('data:'));
          if (data) at.set((JSON.parse(data.slice(5)) as { epoch: number }).epoch, now);
        }
      });
      res.on('end', () => resolve(at));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function longJob(): Promise<StorageSection['longJob']> {
  const service = await startService({ WORKER_CONCURRENCY: '1' });
  try {
    const job = await service.json('POST', '/v1/training-jobs', {
      datasetId: 'builtin:blobs',
      model: { hidden: SMALL.hidden, task: 'binary' },
      // Default retention (the last 20 and the best are kept): pruning is part of every epoch's cost.
      training: { epochs: LONG_EPOCHS, batchSize: 32, seed: 1 },
    });
    const arrivals = epochArrivals(service.base, job.jobId);
    await service.waitForJob(job.jobId);
    const at = await arrivals;
    const perEpoch = [10, 300, 1000].map((epoch) => {
      const from = Math.max(2, epoch - WINDOW + 1);
      const gaps: number[] = [];
      for (let e = from; e <= epoch; e++) if (at.has(e) && at.has(e - 1)) gaps.push(at.get(e)! - at.get(e - 1)!);
      return { epoch, ms: round(quantile(gaps.sort((a, b) => a - b), 0.5), 2) };
    });
    return { net: SMALL.name, epochs: LONG_EPOCHS, perEpoch };
  } finally {
    await service.stop();
  }
}

export async function storageSection(): Promise<StorageSection> {
  const checkpoints = [await checkpointCost(MNIST.name, MNIST.inputDim, MNIST.hidden, MNIST.classes, 1024)];
  // The largest model the default limits allow: MAX_PARAMETERS weights (here just under).
  const max = loadConfig({}).MAX_PARAMETERS;
  const big = { inputDim: 2, hidden: [4096, 4096, 700] };
  const bigSpec = resolveSpec({ hidden: big.hidden, task: 'binary' }, { inputDim: big.inputDim, outputDim: 1 }, 1);
  if (parameterCount(bigSpec) > max) throw new Error('internal: the MAX_PARAMETERS model exceeds MAX_PARAMETERS');
  checkpoints.push(await checkpointCost(`MAX_PARAMETERS model 2-${big.hidden.join('-')}-1`, big.inputDim, big.hidden, 1, 128));
  return { checkpoints, longJob: await longJob() };
}
