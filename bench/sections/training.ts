// Training throughput through real jobs (API -> BullMQ -> sandboxed worker -> checkpoints on disk): the
// MNIST-size network's samples/s with the default settings (a job per core, one thread each) and with
// WORKER_CONCURRENCY=1 (one job at a time, on every core), next to PyTorch's with 1 and 2 threads on the
// same machine, run alternately (ours by default, PyTorch with one thread, ours on every core, PyTorch
// with two); and how many small-network jobs an hour one service finishes with WORKER_CONCURRENCY 1 and 2.
import { startService, type Service } from '../lib/service.js';
import { round } from '../lib/stats.js';
import { torchTrainSamplesPerSecond, type TorchRunner } from '../lib/torch.js';
import { MNIST, mnistLike } from '../lib/workloads.js';

export interface TrainingSection {
  mnist: {
    rows: number;
    timedEpochs: number;
    /** the service as configured by default */
    samplesPerSecond: number;
    /** with WORKER_CONCURRENCY=1: the job's products on every core */
    allCoresSamplesPerSecond: number;
    torchByThreads: Record<number, number> | null;
    /** PyTorch's better thread count */
    torchSamplesPerSecond: number | null;
    ratio: number | null;
  };
  smallJobs: { jobs: number; epochs: number; perConcurrency: { concurrency: number; seconds: number; jobsPerHour: number }[] };
}

const ROWS = 4096;
const EPOCHS = 4; // epoch 1 is the warm-up (JIT, wasm kernels), as in the PyTorch script
const SMALL_JOBS = 24;
const SMALL_EPOCHS = 30;

/** Samples/s of the job's epochs after the first, from the history the worker recorded. */
async function mnistJob(service: Service): Promise<number> {
  const data = mnistLike(ROWS);
  const dataset = await service.json('POST', '/v1/datasets', { name: 'mnist-like', ...data });
  const job = await service.json('POST', '/v1/training-jobs', {
    datasetId: dataset.id,
    model: { hidden: MNIST.hidden, task: 'multiclass' },
    training: { epochs: EPOCHS, batchSize: 128, optimizer: 'adam', learningRate: 0.01, validationSplit: 0, seed: 1 },
  });
  const done = await service.waitForJob(job.jobId);
  const timed = done.history!.slice(1);
  const seconds = timed.reduce((s, h) => s + ROWS / h.samplesPerSecond, 0);
  return (ROWS * timed.length) / seconds;
}

async function smallJobs(concurrency: number): Promise<{ concurrency: number; seconds: number; jobsPerHour: number }> {
  const service = await startService({ WORKER_CONCURRENCY: String(concurrency) });
  const submit = async (count: number, epochs: number, firstSeed: number) => {
    const jobs = [];
    for (let i = 0; i < count; i++) {
      jobs.push(
        await service.json('POST', '/v1/training-jobs', {
          datasetId: 'builtin:blobs',
          model: { hidden: [3, 2], task: 'binary' },
          training: { epochs, batchSize: 32, seed: firstSeed + i },
        }),
      );
    }
    // One poller at a time, in submission order: polling all jobs at once (20 requests/s each) took a
    // quarter of a core from the jobs it measures.
    for (const j of jobs) await service.waitForJob(j.jobId);
  };
  try {
    // Warm-up: one short job per sandbox child, so that the timed batch does not include their start
    // (about a second each, two at once with WORKER_CONCURRENCY=2).
    await submit(concurrency, 2, 1000);
    const t0 = performance.now();
    await submit(SMALL_JOBS, SMALL_EPOCHS, 1);
    const seconds = (performance.now() - t0) / 1000;
    return { concurrency, seconds: round(seconds, 2), jobsPerHour: round((SMALL_JOBS * 3600) / seconds, 0) };
  } finally {
    await service.stop();
  }
}

async function mnistJobWith(env: Record<string, string>): Promise<number> {
  const service = await startService(env);
  try {
    return await mnistJob(service);
  } finally {
    await service.stop();
  }
}

export async function trainingSection(torch: TorchRunner | null): Promise<TrainingSection> {
  const torchRun = (threads: number) =>
    torch
      ? torchTrainSamplesPerSecond(torch, { inputDim: MNIST.inputDim, hidden: MNIST.hidden, classes: MNIST.classes, rows: ROWS, epochs: EPOCHS, batchSize: 128, lr: 0.01 }, threads)
      : null;
  const samplesPerSecond = await mnistJobWith({});
  const torch1 = torchRun(1);
  const allCores = await mnistJobWith({ WORKER_CONCURRENCY: '1' });
  const torch2 = torchRun(2);
  const torchBest = torch1 === null || torch2 === null ? null : Math.max(torch1, torch2);
  const perConcurrency = [];
  for (const c of [1, 2]) perConcurrency.push(await smallJobs(c));
  return {
    mnist: {
      rows: ROWS,
      timedEpochs: EPOCHS - 1,
      samplesPerSecond: round(samplesPerSecond, 0),
      allCoresSamplesPerSecond: round(allCores, 0),
      torchByThreads: torch1 === null || torch2 === null ? null : { 1: round(torch1, 0), 2: round(torch2, 0) },
      torchSamplesPerSecond: torchBest === null ? null : round(torchBest, 0),
      ratio: torchBest === null ? null : round(samplesPerSecond / torchBest, 3),
    },
    smallJobs: { jobs: SMALL_JOBS, epochs: SMALL_EPOCHS, perConcurrency },
  };
}
