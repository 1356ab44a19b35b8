// Load test: holds the prediction route at its maximum rate (autocannon on loopback) while two training
// jobs run, and records errors, latency percentiles and the server's memory over the run.
// Usage: node dist/bench/load-test.js [seconds=30] [connections=16]
import fs from 'node:fs/promises';
import autocannon from 'autocannon';
import { startService, waitFor } from './lib/service.js';
import { machine } from './lib/stats.js';

const seconds = Number(process.argv[2] ?? 30);
const connections = Number(process.argv[3] ?? 16);

async function rssKiB(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

async function main() {
  const service = await startService({ WORKER_CONCURRENCY: '2' });
  const { base, json } = service;
  try {
    const first = await json('POST', '/v1/training-jobs', {
      datasetId: 'builtin:blobs',
      model: { hidden: [64, 64], task: 'binary' },
      training: { epochs: 3, batchSize: 64, seed: 1 },
    });
    await service.waitForJob(first.jobId);
    // Two jobs training while the load runs.
    const background: { jobId: string; modelId: string }[] = [];
    for (const seed of [2, 3]) {
      background.push(
        await json('POST', '/v1/training-jobs', {
          datasetId: 'builtin:blobs',
          model: { hidden: [256, 256, 256], task: 'binary' },
          training: { epochs: 1000, batchSize: 32, seed },
        }),
      );
    }
    await waitFor('both jobs running', async () => {
      const states = await Promise.all(background.map((j) => json('GET', `/v1/training-jobs/${j.jobId}`)));
      return states.every((s) => s.status === 'running') ? true : undefined;
    }, 120_000, 200);

    const memory: { t: number; rssKiB: number }[] = [];
    const sampler = setInterval(async () => {
      memory.push({ t: Date.now(), rssKiB: await rssKiB(service.pid) });
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
    for (const job of background) await json('DELETE', `/v1/training-jobs/${job.jobId}`);

    const avg = (xs: { rssKiB: number }[]) => Math.round(xs.reduce((a, b) => a + b.rssKiB, 0) / Math.max(1, xs.length));
    const quarter = Math.max(1, Math.floor(memory.length / 4));
    const quarters = [0, 1, 2, 3].map((q) => avg(memory.slice(q * quarter, q === 3 ? memory.length : (q + 1) * quarter)));
    const figures = {
      date: new Date().toISOString(),
      machine: machine(),
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
    await service.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
