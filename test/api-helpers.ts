// Shared set-up of the API tests: a real redis-server, a temporary DATA_DIR store, the real BullMQ queue,
// optionally the real worker, and the app built around them.
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config/config.js';
import { createFsStore } from '../src/store/fs-store.js';
import type { Store } from '../src/store/store.js';
import { createBullmqTrainingQueue } from '../src/queue/bullmq-training-queue.js';
import type { TrainingQueue } from '../src/queue/types.js';
import { startWorker, type TrainingWorker } from '../src/worker/worker.js';
import { buildApp } from '../src/api/app.js';
import type { InferenceEngine } from '../src/inference/types.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';
import { makeFrozen, type CheckpointOptions } from './helpers/make-checkpoint.js';
import { tfjsModel, trainingState } from './store-fixtures.js';
import type { Checkpoint } from '../src/checkpoint/checkpoint.js';

export interface TestEnv {
  app: FastifyInstance;
  config: Config;
  store: Store;
  queue: TrainingQueue;
  redis: TestRedis;
  dataDir: string;
  worker?: TrainingWorker;
  close(): Promise<void>;
}

export async function startEnv(
  options: { env?: Record<string, string>; worker?: boolean; logger?: pino.Logger; inference?: InferenceEngine } = {},
): Promise<TestEnv> {
  const redis = await startTestRedis();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-api-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    REDIS_URL: redis.url,
    LOG_LEVEL: 'silent',
    WORKER_CONCURRENCY: '2',
    JOB_ATTEMPTS: '1',
    TFJS_BACKEND: 'auto',
    ...options.env,
  });
  const store = await createFsStore(dataDir);
  const queue = createBullmqTrainingQueue({ redisUrl: redis.url, attempts: config.JOB_ATTEMPTS });
  const worker = options.worker ? await startWorker({ config, logger: pino({ level: 'silent' }) }) : undefined;
  const app = await buildApp({ config, store, queue, logger: options.logger ?? false, inference: options.inference });
  await app.ready();
  const env: TestEnv = {
    app,
    config,
    store,
    queue,
    redis,
    dataDir,
    worker,
    async close() {
      await app.close();
      await worker?.close();
      await queue.close();
      await env.redis.cleanup(); // the current server: a test may have replaced it
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
  return env;
}

export const tinyModel = {
  model: { hidden: [8, 4], task: 'binary' as const, batchNorm: { momentum: 0.9 } },
  training: { epochs: 3, batchSize: 64, seed: 7, learningRate: 0.05 },
};

/** Server-Sent Events from a listening app, parsed, until the server ends the stream. */
export async function readSse(
  baseUrl: string,
  urlPath: string,
  headers: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<{ status: number; contentType: string; events: { event: string; data: unknown }[]; raw: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(urlPath, baseUrl), { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let raw = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (raw += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        const events = raw
          .split('\n\n')
          .filter((block) => block.split('\n').some((line) => line.startsWith('data:')))
          .map((block) => {
            const lines = block.split('\n');
            const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim() ?? 'message';
            const data = lines
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trimStart())
              .join('\n');
            return { event, data: JSON.parse(data) as unknown };
          });
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), events, raw });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`SSE stream ${urlPath} did not end within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A model with one random checkpoint (epoch 1) written straight into the store (no job): fast predict fixtures. */
export async function putTrainedModel(store: Store, modelId: string, options: CheckpointOptions): Promise<void> {
  await putCompletedModel(store, [{ ...makeFrozen(options), modelId }]);
}

/** A model record for checkpoints[0].modelId and its checkpoints, written straight into the store. */
export async function putCompletedModel(store: Store, checkpoints: Checkpoint[]): Promise<void> {
  const { modelId, spec, training } = checkpoints[0];
  const now = new Date().toISOString();
  await store.putModel({ modelId, jobId: `job_${modelId}`, datasetId: 'builtin:blobs', spec, training, createdAt: now, updatedAt: now });
  for (const c of checkpoints) await store.putCheckpoint(c, trainingState(modelId, c.epoch), tfjsModel(c));
}
