// Configuration: read from the environment and validated once, here; shared by the API and the worker.
import os from 'node:os';
import path from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { SPEC_LIMITS, type RequestLimits } from '../schemas/model-spec.js';
import type { DatasetLimits } from '../datasets/validate.js';
import { parseApiKeys } from './api-keys.js';

const Int = (min: number, max: number, def: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: def, description });

export const ConfigSchema = Type.Object({
  ROLE: Type.Enum(['all', 'api', 'worker'], {
    default: 'all',
    description: 'all: API + worker (+ embedded Redis when REDIS_URL is unset); api; worker',
  }),
  PORT: Int(0, 65535, 3000, 'HTTP port'),
  HOST: Type.String({ default: '127.0.0.1', description: 'Listen address; the container sets 0.0.0.0' }),
  REDIS_URL: Type.Optional(
    Type.String({ description: 'redis://host:port/db; unset: start a private redis-server under DATA_DIR' }),
  ),
  DATA_DIR: Type.String({ default: './data', description: 'Datasets, models, checkpoints (shared by API and workers)' }),
  WORKER_CONCURRENCY: Int(1, 256, Math.max(1, os.availableParallelism()), 'Jobs trained side by side per worker'),
  TFJS_BACKEND: Type.Enum(['auto', 'tensorflow', 'wasm', 'cpu'], { default: 'auto' }),
  TRAIN_ENGINE: Type.Enum(['auto', 'loops', 'onnx', 'tensor-ops'], {
    default: 'auto',
    description:
      'Training step: auto = tensor-ops on the tensorflow backend, else onnxruntime-node for networks of 2,000+ multiply-adds per row, loops below',
  }),
  TRAIN_THREADS: Type.Optional(
    // a string: a count (1-256) or the word share; trainThreads() below makes it a number
    Type.String({
      pattern: '^(share|[1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-6])$',
      description:
        "Threads of one job's matrix products (onnx engine), 1-256: default cores / WORKER_CONCURRENCY, at most that; share: the cores divided by the jobs training on the machine at the moment (a job alone uses every core; results then depend on the thread count)",
    }),
  ),
  INFERENCE_ENGINE: Type.Enum(['auto', 'onnx', 'folded', 'direct'], {
    default: 'auto',
    description: 'Prediction engine: auto = onnxruntime-node for models of 20,000+ multiply-adds per row, folded TypeScript below',
  }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  API_KEYS: Type.Optional(
    Type.String({ description: 'Comma-separated bearer keys, or sha256:<hex> hashes of them; unset: no auth' }),
  ),
  WORKER_LOCK_DURATION_MS: Int(
    1000,
    600_000,
    15_000,
    'Job lock of a worker, renewed every half of it; a dead worker\'s job is taken over after it expires and the next stalled check',
  ),
  WORKER_STALLED_INTERVAL_MS: Int(500, 600_000, 10_000, 'How often workers look for jobs of dead workers'),
  JOB_ATTEMPTS: Int(1, 100, 5, 'Attempts of a training job before it fails (transient errors); also how often it may lose its worker'),
  MODEL_CACHE_SIZE: Int(1, 100_000, 64, 'Loaded models kept for prediction'),
  WARM_UP_CONCURRENCY: Int(
    0,
    64,
    2,
    'Aliased checkpoints loaded at a time when the API starts, in the background (at most MODEL_CACHE_SIZE, newest models first); 0: none',
  ),
  BODY_LIMIT_BYTES: Int(1024, 1024 ** 3, 50 * 1024 * 1024, 'Largest request body'),
  MAX_ROWS: Int(1, 100_000_000, 1_000_000, 'Rows per dataset'),
  MAX_FEATURES: Int(1, SPEC_LIMITS.maxFeatures, 4096, 'Features per dataset'),
  MAX_DATASET_BYTES: Int(
    1024,
    2 ** 40,
    1024 ** 3,
    'Size of one dataset as stored (features in their type, float32 labels, both parts); bounds what a gzip upload may expand to',
  ),
  FASHION_MNIST_DIR: Type.String({
    default: '/usr/share/datasets/fashion-mnist',
    description: "Where builtin:fashion-mnist's IDX files are (Debian's dataset-fashion-mnist installs them there)",
  }),
  MAX_UNITS: Int(1, SPEC_LIMITS.maxUnits, 4096, 'Units of one hidden layer'),
  MAX_LAYERS: Int(1, SPEC_LIMITS.maxLayers, 16, 'Hidden layers'),
  MAX_EPOCHS: Int(1, SPEC_LIMITS.maxEpochs, 1000, 'Epochs of one job'),
  MAX_BATCH_SIZE: Int(1, SPEC_LIMITS.maxBatchSize, 8192, 'Batch size'),
  MAX_PARAMETERS: Int(1, 1e9, 20_000_000, 'Weights of one model'),
  MAX_PREDICT_INSTANCES: Int(1, 1_000_000, 10_000, 'Rows of one prediction request'),
  RATE_LIMIT_MAX: Int(0, 1e9, 6000, 'Requests per window per client on job submission and prediction; 0 turns it off'),
  RATE_LIMIT_WINDOW_MS: Int(1, 3_600_000, 60_000, 'Rate-limit window'),
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: Int(
    10,
    60_000,
    1000,
    'Event-loop delay above which requests get 503 + Retry-After (load shedding; also above 90% of the heap limit)',
  ),
  CORS_ORIGIN: Type.Optional(Type.String({ description: 'Comma-separated allowed origins; unset: CORS off' })),
  SHUTDOWN_TIMEOUT_MS: Int(1000, 600_000, 30_000, 'Longest graceful shutdown before exit'),
});

export type Config = Omit<Static<typeof ConfigSchema>, 'TRAIN_THREADS'> & { DATA_DIR: string; TRAIN_THREADS: number | 'share' };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw));
  const errors = [...Value.Errors(ConfigSchema, converted)];
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const name = e.instancePath.replace(/^\//, '') || 'environment';
      return `${name}=${JSON.stringify(raw[name] ?? '')}: ${e.message}`;
    });
    throw new ConfigError(`invalid configuration: ${[...new Set(lines)].join('; ')}`);
  }
  const config = converted as Static<typeof ConfigSchema>;
  let keys: number;
  try {
    keys = parseApiKeys(config.API_KEYS).length;
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`);
  }
  if (config.API_KEYS !== undefined && keys === 0) {
    throw new ConfigError('invalid configuration: API_KEYS is set but holds no key; give keys or unset it');
  }
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.HOST);
  if (config.ROLE !== 'worker' && !loopback && keys === 0) {
    throw new ConfigError(
      `invalid configuration: API_KEYS is required when HOST=${config.HOST} (not loopback): ` +
        'set API_KEYS=<key>[,<key>...] or sha256:<hex> hashes, or listen on HOST=127.0.0.1',
    );
  }
  return { ...config, DATA_DIR: path.resolve(config.DATA_DIR), TRAIN_THREADS: trainThreads(config) };
}

/**
 * One job's threads: TRAIN_THREADS, by default the cores shared out among the jobs a worker trains side
 * by side. A number may not make them run more threads than cores (on roles that train).
 */
function trainThreads(config: Static<typeof ConfigSchema>): number | 'share' {
  const cores = os.availableParallelism();
  const fair = Math.max(1, Math.floor(cores / config.WORKER_CONCURRENCY));
  const threads = config.TRAIN_THREADS === undefined ? fair : config.TRAIN_THREADS === 'share' ? 'share' : Number(config.TRAIN_THREADS);
  if (threads !== 'share' && threads > fair && config.ROLE !== 'api') {
    throw new ConfigError(
      `invalid configuration: TRAIN_THREADS=${threads} with WORKER_CONCURRENCY=${config.WORKER_CONCURRENCY} would run ` +
        `${threads * config.WORKER_CONCURRENCY} training threads on ${cores} cores; set TRAIN_THREADS to ${fair} or less, ` +
        'lower WORKER_CONCURRENCY, or set TRAIN_THREADS=share to share the cores among the jobs running',
    );
  }
  return threads;
}

/** The server's limits as the maxima of the training request's schema. */
export function requestLimits(config: Config): RequestLimits {
  return { maxUnits: config.MAX_UNITS, maxLayers: config.MAX_LAYERS, maxEpochs: config.MAX_EPOCHS, maxBatchSize: config.MAX_BATCH_SIZE };
}

/** The limits of one dataset (uploads and inline training data). */
export function datasetLimits(config: Config): DatasetLimits {
  return { maxRows: config.MAX_ROWS, maxFeatures: config.MAX_FEATURES, maxBytes: config.MAX_DATASET_BYTES };
}
