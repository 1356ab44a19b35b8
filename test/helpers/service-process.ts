// The service as a REAL child process (`node dist/src/main.js`) for the fault-injection tests: a given
// role and environment, its output kept for diagnostics, readiness awaited, stopped with a real signal.
// Every process started here is registered so that an `after` hook can always stop what is left.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { startTestRedis, type TestRedis } from './redis.js';
import { freePort } from '../../src/redis/embedded-redis.js';

/** dist/test/helpers/service-process.js -> dist/src/main.js */
export const MAIN_JS = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export type Role = 'all' | 'api' | 'worker';

export interface StartServiceOptions {
  role: Role;
  /** Omitted: ROLE=all starts its embedded Redis under DATA_DIR/redis. */
  redisUrl?: string;
  dataDir: string;
  /** Default: a free loopback port (ignored by workers, which do not listen). */
  port?: number;
  /** Extra environment (WORKER_CONCURRENCY, SHUTDOWN_TIMEOUT_MS, ...). */
  env?: Record<string, string>;
  /** A name for messages. */
  name?: string;
  /** Longest wait for readiness (default 30 s). */
  readyTimeoutMs?: number;
  logLevel?: string;
}

export interface ServiceProcess {
  name: string;
  role: Role;
  port: number;
  /** http://127.0.0.1:port */
  baseUrl: string;
  pid: number;
  child: ChildProcess;
  /** Everything it wrote on stdout and stderr (the last 1 MiB). */
  output(): string;
  /** Parsed pino lines (stdout). */
  logs(): LogLine[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
  isRunning(): boolean;
  /** Resolves when a log line matches (msg text or predicate), rejects after timeoutMs or if the process exits. */
  waitForLog(match: string | RegExp | ((line: LogLine) => boolean), timeoutMs: number): Promise<LogLine>;
  /** Sends the signal and waits for the exit (SIGKILL after killAfterMs, default 20 s). */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<StopResult>;
  /** Its descendants now (the sandboxed training processes BullMQ forks). */
  descendants(): Promise<number[]>;
}

export interface StopResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  elapsedMs: number;
  /** Descendants it had when the signal was sent (check them with isAlive after a SIGKILL). */
  children: number[];
}

export interface LogLine {
  level?: number;
  msg?: string;
  time?: number;
  [key: string]: unknown;
}

const live = new Set<ServiceProcess>();
/** Every service started by this test file, for diagnostics. */
const started: ServiceProcess[] = [];

export { freePort };

/**
 * A real Redis and a temporary DATA_DIR for one fault test file, started on first use; an `after` hook of
 * the file stops every service it spawned, then Redis, and removes the directory (also on failure).
 */
export function faultFixture(options: { persistent?: boolean } = {}) {
  let env: Promise<{ redis: TestRedis; dataDir: string }> | undefined;
  after(async () => {
    await stopAll();
    const started = await env?.catch(() => undefined);
    await started?.redis.cleanup();
    if (started) await fs.rm(started.dataDir, { recursive: true, force: true });
  });
  return {
    start: () => (env ??= (async () => ({ redis: await startTestRedis(options), dataDir: await tempDataDir() }))()),
  };
}

export async function tempDataDir(prefix = 'bn-faults-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22): guards against pid reuse. */
async function startTicks(pid: number): Promise<string | null> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

/** Every descendant these helpers have seen, with its start time: stopAll kills those still running. */
const seenDescendants = new Map<number, string>();

/** The pids of pid's descendants (children, grandchildren...), from /proc. */
export async function descendants(pid: number): Promise<number[]> {
  const byParent = new Map<number, number[]>();
  for (const name of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await fs.readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may contain spaces and parentheses, so split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    if (!Number.isInteger(ppid)) continue;
    const list = byParent.get(ppid) ?? [];
    list.push(Number(name));
    byParent.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    for (const c of byParent.get(stack.pop() as number) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  for (const c of out) {
    const ticks = await startTicks(c);
    if (ticks) seenDescendants.set(c, ticks);
  }
  return out;
}

export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const name = options.name ?? `${options.role}:${port}`;
  const env: Record<string, string> = {};
  // A clean environment: only what a process needs, never the test runner's own settings.
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    if (process.env[key] !== undefined) env[key] = process.env[key] as string;
  }
  Object.assign(env, {
    ROLE: options.role,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: options.dataDir,
    LOG_LEVEL: options.logLevel ?? 'info',
    ...(options.redisUrl !== undefined && { REDIS_URL: options.redisUrl }),
    ...options.env,
  });
  const child = spawn(process.execPath, [MAIN_JS], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let pending = '';
  const lines: LogLine[] = [];
  const watchers = new Set<(line: LogLine) => void>();
  const keep = (chunk: Buffer, parse: boolean) => {
    const text = chunk.toString();
    output = (output + text).slice(-(1 << 20));
    if (!parse) return;
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const raw = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        line = { msg: raw };
      }
      lines.push(line);
      if (lines.length > 20_000) lines.shift();
      for (const w of watchers) w(line);
    }
  };
  child.stdout?.on('data', (c: Buffer) => keep(c, true));
  child.stderr?.on('data', (c: Buffer) => keep(c, false));

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null; atMs: number } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal, atMs: Date.now() };
      resolve(exitInfo);
    });
    child.once('error', () => {
      exitInfo ??= { code: -1, signal: null, atMs: Date.now() };
      resolve(exitInfo);
    });
  });

  const svc: ServiceProcess = {
    name,
    role: options.role,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    child,
    output: () => output,
    logs: () => [...lines],
    exited,
    isRunning: () => exitInfo === null,
    waitForLog(match, timeoutMs) {
      const test =
        typeof match === 'function'
          ? match
          : (l: LogLine) => (typeof match === 'string' ? l.msg === match : match.test(l.msg ?? ''));
      const found = lines.find(test);
      if (found) return Promise.resolve(found);
      return new Promise<LogLine>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          watchers.delete(watcher);
        };
        const watcher = (l: LogLine) => {
          if (test(l)) {
            done();
            resolve(l);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no log line ${String(match)} within ${timeoutMs} ms\n${tail(output)}`));
        }, timeoutMs);
        watchers.add(watcher);
        void exited.then((e) => {
          if (!watchers.has(watcher)) return;
          done();
          reject(new Error(`${name} exited (code ${e.code}, signal ${e.signal}) before log line ${String(match)}\n${tail(output)}`));
        });
      });
    },
    async stop(signal = 'SIGTERM', killAfterMs = 20_000) {
      // The sandboxed training children (BullMQ forks) are ours too: remembered before the parent goes.
      const kids = await descendants(svc.pid);
      const t0 = Date.now();
      if (exitInfo === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        await exited;
        clearTimeout(timer);
      }
      live.delete(svc);
      const e = await exited;
      return { code: e.code, signal: e.signal, elapsedMs: Math.max(0, e.atMs - t0), children: kids };
    },
    descendants: () => descendants(svc.pid),
  };
  live.add(svc);
  started.push(svc);
  void exited.then(() => live.delete(svc));
  return svc;
}

/**
 * Waits until GET /readyz answers 200 (api, all) and the API no longer sheds load, or rejects with the
 * process output. /readyz is never shed, but a process that just started (module loading, the engines'
 * self-tests) can have stalled its event loop long enough for the overload protection to answer 503 to
 * the first requests; a test's first submission must not meet that.
 */
export async function waitReady(svc: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!svc.isRunning()) {
      const e = await svc.exited;
      throw new Error(`${svc.name} exited (code ${e.code}, signal ${e.signal}) before it was ready\n${tail(svc.output())}`);
    }
    try {
      const res = await fetch(`${svc.baseUrl}/readyz`, { signal: AbortSignal.timeout(3000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) {
        // Any answer but the overload 503 will do (401 with API_KEYS).
        const probe = await fetch(`${svc.baseUrl}/v1/models?limit=1`, { signal: AbortSignal.timeout(3000) });
        last = `GET /v1/models: ${probe.status} ${await probe.text()}`;
        if (probe.status !== 503) return;
      }
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${svc.name} not ready within ${timeoutMs} ms (last /readyz: ${last})\n${tail(svc.output())}`);
}

/** Starts and waits: api/all until /readyz is 200, worker until it logs 'training worker started'. */
export async function startReady(options: StartServiceOptions): Promise<ServiceProcess> {
  const svc = await startService(options);
  try {
    if (options.role === 'worker') await svc.waitForLog('training worker started', options.readyTimeoutMs ?? 30_000);
    else await waitReady(svc, options.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await svc.stop('SIGKILL');
    throw err;
  }
  return svc;
}

/**
 * Stops every process these helpers started and is still running (for `after` hooks), with SIGKILL, and
 * every descendant of theirs ever seen (training processes, embedded redis-servers) that outlived them.
 */
export async function stopAll(): Promise<void> {
  const all = [...live];
  await Promise.all(all.map((s) => descendants(s.pid)));
  await Promise.all(all.map((s) => s.stop('SIGKILL', 1000)));
  await killPids([...seenDescendants.keys()]);
}

/** SIGKILL to those of pids that still run and are the processes we saw (same start time). */
export async function killPids(pids: number[]): Promise<void> {
  for (const pid of pids) {
    const ticks = await startTicks(pid);
    if (ticks === null || ticks !== seenDescendants.get(pid)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Wraps a test body: when it throws, the last lines of every service process this file started are added
 * to the error, so a failure explains itself without a rerun.
 */
export function withServiceOutput<T>(fn: (t: T) => Promise<void>): (t: T) => Promise<void> {
  return async (t: T) => {
    try {
      await fn(t);
    } catch (err) {
      if (err instanceof Error && started.length > 0) {
        const dump = started
          .map((svc) => `--- ${svc.name} (pid ${svc.pid}${svc.isRunning() ? ', running' : ''}) ---\n${tail(svc.output(), 25)}`)
          .join('\n');
        try {
          err.message = `${err.message}\n${dump}`;
        } catch {
          // a frozen message: the original error still tells what failed
        }
      }
      throw err;
    }
  };
}

export function tail(text: string, lines = 40): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// HTTP helpers

export interface HttpResult<T = any> {
  status: number;
  body: T;
  elapsedMs: number;
}

export async function http<T = any>(
  svc: ServiceProcess | string,
  method: string,
  url: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<HttpResult<T>> {
  const base = typeof svc === 'string' ? svc : svc.baseUrl;
  const t0 = performance.now();
  const res = await fetch(`${base}${url}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed as T, elapsedMs: performance.now() - t0 };
}

export interface JobStatusBody {
  jobId: string;
  modelId: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  progress: { epoch: number; epochs: number; lastSavedEpoch: number; [k: string]: unknown };
  /** present in GET /v1/training-jobs/:jobId (the model's epoch log) */
  history: { epoch: number; loss: number; [k: string]: unknown }[];
  error?: string;
  attempts: number;
  [k: string]: unknown;
}

export async function submitJob(
  svc: ServiceProcess | string,
  body: unknown,
): Promise<{ jobId: string; modelId: string }> {
  const res = await http(svc, 'POST', '/v1/training-jobs', body);
  if (res.status !== 202) throw new Error(`POST /v1/training-jobs answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { jobId: res.body.jobId, modelId: res.body.modelId };
}

export async function jobStatus(svc: ServiceProcess | string, jobId: string): Promise<JobStatusBody> {
  const res = await http<JobStatusBody>(svc, 'GET', `/v1/training-jobs/${jobId}`);
  if (res.status !== 200) throw new Error(`GET /v1/training-jobs/${jobId} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Polls the job's status until the predicate holds; rejects with the last status after timeoutMs. */
export async function waitForJob(
  svc: ServiceProcess | string | (() => ServiceProcess | string),
  jobId: string,
  until: (s: JobStatusBody) => boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<JobStatusBody> {
  const deadline = Date.now() + timeoutMs;
  let last: JobStatusBody | string = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const target = typeof svc === 'function' ? svc() : svc;
      const s = await jobStatus(target, jobId);
      last = s;
      if (until(s)) return s;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(intervalMs);
  }
  throw new Error(`job ${jobId}: condition not met within ${timeoutMs} ms; last status: ${JSON.stringify(last).slice(0, 2000)}`);
}

export const isFinished = (s: JobStatusBody) => s.status === 'completed' || s.status === 'failed' || s.status === 'cancelled';

/**
 * A small, quick network on builtin:blobs. Every checkpoint is kept (the fault tests check the unbroken
 * sequence 1..N on disk; retention has tests of its own).
 */
export function smallJob(epochs: number, seed = 1, extra: { model?: object; training?: object } = {}) {
  return {
    datasetId: 'builtin:blobs',
    model: { hidden: [32], task: 'binary', ...extra.model },
    training: { epochs, batchSize: 32, seed, checkpoints: { keepLast: 100_000 }, ...extra.training },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Checkpoints on disk

export interface CheckpointOnDisk {
  epoch: number;
  dir: string;
  doc: { epoch: number; modelId: string; createdAt: string; [k: string]: unknown };
  mtimeMs: number;
  ino: number;
}

/** Reads every epoch directory of a model straight from DATA_DIR; each checkpoint.json must parse. */
export async function checkpointsOnDisk(dataDir: string, modelId: string): Promise<{ epochs: CheckpointOnDisk[]; other: string[] }> {
  const dir = path.join(dataDir, 'models', modelId, 'checkpoints');
  const names = (await fs.readdir(dir).catch(() => [] as string[])).sort();
  const epochs: CheckpointOnDisk[] = [];
  const other: string[] = [];
  for (const name of names) {
    if (!/^\d{6,}$/.test(name)) {
      other.push(name);
      continue;
    }
    const file = path.join(dir, name, 'checkpoint.json');
    // checkpoint.json is the document without its values (they are in weights.bin beside it).
    const text = await fs.readFile(file, 'utf8');
    const doc = JSON.parse(text) as CheckpointOnDisk['doc'];
    const st = await fs.stat(file);
    epochs.push({ epoch: Number(name), dir: path.join(dir, name), doc, mtimeMs: st.mtimeMs, ino: st.ino });
  }
  return { epochs, other };
}

/** 1..n */
export const range1 = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
