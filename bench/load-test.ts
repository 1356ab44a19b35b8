// Load test: holds the prediction route at its maximum rate (autocannon on loopback) while two training
// jobs run, and records errors, latency percentiles and the server's memory over the run.
// Usage: node dist/bench/load-test.js [seconds=30] [connections=16]
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

const seconds = Number(process.argv[2] ?? 30);
const connections = Number(process.argv[3] ?? 16);

async function rssKiB(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

async function json(base: string, method: string, url: string, body?: unknown) {
  const res = await fetch(base + url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bn-load-'));
  const port = 3400 + Math.floor(Math.random() * 500);
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, ['dist/src/main.js'], {
    env: {
      ...process.env,
      ROLE: 'all',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      WORKER_CONCURRENCY: '2',
      RATE_LIMIT_MAX: '0',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitFor('the service', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));
    // A model to predict with.
    const first = await json(base, 'POST', '/v1/training-jobs', {
      datasetId: 'builtin:blobs',
      model: { hidden: [64, 64], task: 'binary' },
      training: { epochs: 3, batchSize: 64, seed: 1 },
    });
    await waitFor('the first model', async () => {
      const s = await json(base, 'GET', `/v1/training-jobs/${first.jobId}`);
      if (s.status === 'failed') throw new Error(s.error);
      return s.status === 'completed' ? s : undefined;
    });
    // Two jobs training while the load runs.
    const background: { jobId: string; modelId: string }[] = [];
    for (const seed of [2, 3]) {
      background.push(
        await json(base, 'POST', '/v1/training-jobs', {
          datasetId: 'builtin:blobs',
          model: { hidden: [256, 256, 256], task: 'binary' },
          training: { epochs: 1000, batchSize: 32, seed },
        }),
      );
    }
    await waitFor('both jobs running', async () => {
      const states = await Promise.all(background.map((j) => json(base, 'GET', `/v1/training-jobs/${j.jobId}`)));
      return states.every((s) => s.status === 'running') ? true : undefined;
    });

    const memory: { t: number; rssKiB: number }[] = [];
    const sampler = setInterval(async () => {
      memory.push({ t: Date.now(), rssKiB: await rssKiB(server.pid!) });
    }, 1000);
    const result = await autocannon({
      url: `${base}/v1/models/${first.modelId}/predict`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ x: [0.25, 0.05] }),
      connections,
      duration: seconds,
    });
    clearInterval(sampler);
    for (const job of background) await json(base, 'DELETE', `/v1/training-jobs/${job.jobId}`);

    const avg = (xs: { rssKiB: number }[]) => Math.round(xs.reduce((a, b) => a + b.rssKiB, 0) / Math.max(1, xs.length));
    const quarter = Math.max(1, Math.floor(memory.length / 4));
    const quarters = [0, 1, 2, 3].map((q) => avg(memory.slice(q * quarter, q === 3 ? memory.length : (q + 1) * quarter)));
    const figures = {
      date: new Date().toISOString(),
      machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
      seconds,
      connections,
      trainingJobsRunning: background.length,
      requests: result.requests.total,
      requestsPerSecond: result.requests.average,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      rssKiB: {
        start: memory[0]?.rssKiB,
        end: memory.at(-1)?.rssKiB,
        max: Math.max(...memory.map((m) => m.rssKiB)),
        quarterAverages: quarters,
      },
    };
    await fs.mkdir('bench/results', { recursive: true });
    await fs.writeFile('bench/results/load-test.json', JSON.stringify(figures, null, 2) + '\n');
    console.log(JSON.stringify(figures, null, 2));
    if (figures.errors + figures.timeouts + figures.non2xx > 0) process.exitCode = 1;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
