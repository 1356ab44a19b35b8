// The service as users run it (node dist/src/main.js, ROLE=all with its embedded Redis) in a child
// process, so that the load generator and the server never share an event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

export interface Service {
  base: string;
  pid: number;
  dataDir: string;
  json<T = any>(method: string, url: string, body?: unknown): Promise<T>;
  /** Polls until the job completes; throws if it fails. */
  waitForJob(jobId: string, timeoutMs?: number): Promise<JobStatus>;
  stop(): Promise<void>;
}

export interface JobStatus {
  status: string;
  error?: string;
  history?: { epoch: number; samplesPerSecond: number; durationMs: number }[];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await fn().catch((err: { fatal?: boolean }) => {
      if (err?.fatal) throw err;
      return undefined;
    });
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

export async function startService(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Service> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...nodeArgs, 'dist/src/main.js'], {
    // The embedded defaults (LOG_LEVEL info included); only the per-client rate limit is off, since one
    // load generator is one client. Log lines go to /dev/null, as to a collector, not to this terminal.
    env: { ...process.env, ROLE: 'all', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, RATE_LIMIT_MAX: '0', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const json = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(base + url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  const stop = async () => {
    child.kill('SIGTERM');
    await exited(child);
    await fs.rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor('the service', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    base,
    pid: child.pid!,
    dataDir,
    json,
    stop,
    waitForJob: (jobId, timeoutMs = 600_000) =>
      waitFor(
        `job ${jobId}`,
        async () => {
          const s = (await json('GET', `/v1/training-jobs/${jobId}`)) as JobStatus;
          if (s.status === 'failed' || s.status === 'cancelled') throw Object.assign(new Error(`job ${jobId} ${s.status}: ${s.error}`), { fatal: true });
          return s.status === 'completed' ? s : undefined;
        },
        timeoutMs,
        50,
      ),
  };
}
