// A real redis-server for one test file, in its own temporary directory (never a mock).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/redis/embedded-redis.js';

export interface TestRedis extends EmbeddedRedis {
  dir: string;
  /** Stops Redis and removes its directory. */
  cleanup(): Promise<void>;
}

export async function startTestRedis(options: { persistent?: boolean; port?: number } = {}): Promise<TestRedis> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-redis-'));
  const redis = await startEmbeddedRedis({ dir, persistent: options.persistent ?? false, port: options.port });
  return {
    ...redis,
    dir,
    async cleanup() {
      await redis.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
