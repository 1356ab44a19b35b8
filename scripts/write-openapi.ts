// Writes openapi/openapi.json from the app's own route schemas (npm run openapi). The app is built from
// real objects; the queue points at a Redis that is never asked anything (buildApp touches the queue only
// when a request comes), and the store lives in a temporary directory.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { createFsStore } from '../src/store/fs-store.js';
import { createBullmqTrainingQueue } from '../src/queue/bullmq-training-queue.js';
import { buildApp } from '../src/api/app.js';

/** Object keys sorted at every level (arrays keep their order): diffs show real changes only. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}

export function renderOpenApi(spec: unknown): string {
  return `${JSON.stringify(sortKeys(spec), null, 2)}\n`;
}

async function main(): Promise<void> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-openapi-'));
  // Port 1: nothing listens there, and nothing is sent before a request anyway.
  const config = loadConfig({ DATA_DIR: dataDir, REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'silent' });
  const queue = createBullmqTrainingQueue({ redisUrl: config.REDIS_URL as string, attempts: 1 });
  const app = await buildApp({ config, store: await createFsStore(dataDir), queue, logger: false });
  try {
    await app.ready();
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
    const file = path.join(root, 'openapi', 'openapi.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, renderOpenApi(app.swagger()));
    console.log(`wrote ${path.relative(process.cwd(), file) || file}`);
  } finally {
    await app.close();
    await queue.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
