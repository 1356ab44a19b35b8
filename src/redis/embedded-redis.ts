// A private redis-server for `npm start` without REDIS_URL (and for the tests): started from the
// redis-server on the PATH, on a free loopback port, with append-only persistence under its directory.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';

export const REDIS_MISSING_HINT =
  'no Redis available: install one (apt-get install -y redis-server) so that redis-server is on the PATH, ' +
  'or set REDIS_URL=redis://host:6379 to use an existing server';

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export interface EmbeddedRedis {
  url: string;
  port: number;
  pid: number;
  /** Graceful stop: redis flushes its append-only file before it exits. */
  stop(): Promise<void>;
  /** Hard stop (SIGKILL), for fault-injection tests. */
  kill(): void;
}

export interface EmbeddedRedisOptions {
  dir: string;
  /** Append-only persistence with fsync on every write (default true). */
  persistent?: boolean;
  /** Fixed port; default: a free one. */
  port?: number;
  binary?: string;
}

/** A free loopback TCP port (a small race remains until it is bound again). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A redis-server left behind by a parent killed with SIGKILL would share the AOF with the new one: stop it. */
async function stopLeftover(pidFile: string): Promise<void> {
  const text = await fs.readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('redis-server')) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

async function waitReady(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new RedisUnavailableError(`redis-server exited at start: ${output().trim().split('\n').slice(-3).join(' | ')}`);
    }
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    client.on('error', () => {});
    try {
      await client.connect();
      // While the AOF loads, PING answers LOADING: wait until the data is there.
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // not ready yet
    } finally {
      client.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new RedisUnavailableError('redis-server did not become ready within 10 s');
}

export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const dir = path.resolve(options.dir);
  await fs.mkdir(dir, { recursive: true });
  const pidFile = path.join(dir, 'redis.pid');
  await stopLeftover(pidFile);
  const port = options.port ?? (await freePort());
  const persistent = options.persistent ?? true;
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'yes',
    '--dir', dir,
    '--pidfile', pidFile,
    '--daemonize', 'no',
    '--maxmemory-policy', 'noeviction',
    '--save', '',
    '--appendonly', persistent ? 'yes' : 'no',
    '--appendfsync', 'always',
    '--loglevel', 'warning',
  ];
  let output = '';
  let child: ChildProcess;
  try {
    child = spawn(options.binary ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new RedisUnavailableError(`${REDIS_MISSING_HINT} (${(err as Error).message})`);
  }
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new RedisUnavailableError(err.code === 'ENOENT' ? REDIS_MISSING_HINT : `redis-server: ${err.message}`)),
    ),
  );
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  try {
    await Promise.race([waitReady(port, child, () => output), spawnError]);
  } catch (err) {
    // Never leave a half-started server behind (a slow AOF load past the deadline, a port race).
    child.kill('SIGKILL');
    throw err;
  }
  // The child must not keep this process alive on its own; stop() ends it.
  child.unref();
  (child.stdout as net.Socket | null)?.unref?.();
  (child.stderr as net.Socket | null)?.unref?.();

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}
