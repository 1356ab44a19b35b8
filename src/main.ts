// The one entry point. ROLE=all (default): API + worker in this process, with a private redis-server
// when REDIS_URL is unset; ROLE=api / ROLE=worker: one side each, against a shared REDIS_URL.
// Training itself always runs in sandboxed child processes (see worker/training-processor.ts).
import path from 'node:path';
import closeWithGrace from 'close-with-grace';
import { pino, type Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { REDACT_PATHS } from './config/log-redaction.js';
import { REDIS_MISSING_HINT, RedisUnavailableError, startEmbeddedRedis, type EmbeddedRedis } from './redis/embedded-redis.js';
import { redactRedisUrl } from './queue/connection.js';

/** Startup problems users can fix: one line on stderr, exit 1, no stack trace. */
function fatal(line: string): never {
  process.stderr.write(`${line.replace(/\s+/g, ' ').trim()}\n`);
  process.exit(1);
}

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fatal(err.message);
    throw err;
  }
}

function createLogger(config: Config): Logger {
  return pino({
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
}

async function resolveRedis(config: Config, logger: Logger): Promise<{ url: string; embedded: EmbeddedRedis | null }> {
  if (config.REDIS_URL) return { url: config.REDIS_URL, embedded: null };
  if (config.ROLE !== 'all') {
    fatal(`ROLE=${config.ROLE} needs REDIS_URL (e.g. REDIS_URL=redis://host:6379) shared by the API and the workers`);
  }
  const dir = path.join(config.DATA_DIR, 'redis');
  try {
    const embedded = await startEmbeddedRedis({ dir });
    logger.info({ redis: embedded.url, dir, redisPid: embedded.pid }, 'started embedded redis-server (REDIS_URL unset)');
    return { url: embedded.url, embedded };
  } catch (err) {
    if (err instanceof RedisUnavailableError) fatal(err.message.startsWith(REDIS_MISSING_HINT) ? REDIS_MISSING_HINT : err.message);
    throw err;
  }
}

/** What is open, in start order; closed in reverse on shutdown or on a failed start. */
const closers: { name: string; close: () => Promise<unknown> }[] = [];

async function closeAll(logger?: Logger): Promise<void> {
  for (const { name, close } of closers.splice(0).reverse()) {
    try {
      await close();
    } catch (e) {
      logger?.error({ err: (e as Error).message, component: name }, 'error while closing');
    }
  }
}

let rootLogger: Logger | undefined;

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config);
  rootLogger = logger;
  // Registered before anything starts, so a signal during startup still closes what was opened.
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an unexpected error');
    else logger.info({ signal }, 'shutting down');
    // In start order reversed: HTTP first (no new work), then worker, queue, and Redis last.
    await closeAll(logger);
    logger.info({}, 'stopped');
  });
  const { url, embedded } = await resolveRedis(config, logger);
  if (embedded) closers.push({ name: 'embedded redis', close: () => embedded.stop() });
  const effective: Config = { ...config, REDIS_URL: url };
  logger.info(
    { role: config.ROLE, redis: redactRedisUrl(url), dataDir: config.DATA_DIR, tfjsBackend: config.TFJS_BACKEND },
    'starting',
  );

  // Roles that train check the backend here, though training runs in children with the same setting: a
  // backend that cannot load stops the process now instead of failing every job. ROLE=api never loads
  // TF.js: predictions use the plain-TypeScript frozen engine.
  if (config.ROLE !== 'api') {
    const { initBackend } = await import('./model/backend.js');
    const backend = await initBackend(config.TFJS_BACKEND);
    logger.info({ backend: backend.backend, requested: backend.requested, tried: backend.tried }, 'TF.js backend ready');
  }

  if (config.ROLE === 'all' || config.ROLE === 'api') {
    const [{ createFsStore }, { createBullmqTrainingQueue }, { buildApp }] = await Promise.all([
      import('./store/fs-store.js'),
      import('./queue/bullmq-training-queue.js'),
      import('./api/app.js'),
    ]);
    const store = await createFsStore(config.DATA_DIR);
    const queue = createBullmqTrainingQueue({ redisUrl: url, attempts: config.JOB_ATTEMPTS, logger });
    closers.push({ name: 'queue', close: () => queue.close() });
    if (config.ROLE === 'all') await startWorkerInto(effective, logger);
    const app = await buildApp({ config: effective, store, queue, logger });
    closers.push({ name: 'http', close: () => app.close() });
    const address = await app.listen({ host: config.HOST, port: config.PORT });
    logger.info({ address, host: config.HOST, port: config.PORT }, 'API listening');
  } else {
    await startWorkerInto(effective, logger);
  }
}

async function startWorkerInto(config: Config, logger: Logger): Promise<void> {
  const { startWorker } = await import('./worker/worker.js');
  const worker = await startWorker({ config, logger: logger.child({ component: 'worker' }) });
  closers.push({ name: 'worker', close: () => worker.close() });
}

main().catch(async (err: unknown) => {
  // e.g. the port is taken: stop what already started (the embedded Redis above all), then one line.
  await closeAll(rootLogger);
  process.stderr.write(`startup failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
