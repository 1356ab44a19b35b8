// Prediction over HTTP: POST /v1/models/:id/predict with one point of seed 000's small network, driven by
// autocannon on loopback, next to a bare Fastify route answering a constant (bench/bare-server.ts) in the
// same run: the ratio says what the service's own work costs on top of the HTTP stack.
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { freePort, startService, waitFor, type Service } from '../lib/service.js';
import { round } from '../lib/stats.js';

export interface HttpFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

export interface HttpSection {
  connections: number;
  seconds: number;
  bare: HttpFigures;
  predict: HttpFigures;
  ratio: number;
}

const BODY = JSON.stringify({ x: [0.25, 0.05] });

async function drive(url: string, connections: number, seconds: number): Promise<HttpFigures> {
  const opts = { url, method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: BODY, connections };
  await autocannon({ ...opts, duration: 2 }); // warm-up: JIT, model cache, connection pools
  const r = await autocannon({ ...opts, duration: seconds });
  return {
    requestsPerSecond: round(r.requests.average, 0),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

async function bareServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/bench/bare-server.js'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/predict`,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
  };
}

/** Trains seed 000's network (2 inputs, 3-2 hidden, 1 output) on builtin:blobs through a real job. */
export async function trainSmallModel(service: Service): Promise<string> {
  const job = await service.json('POST', '/v1/training-jobs', {
    datasetId: 'builtin:blobs',
    model: { hidden: [3, 2], task: 'binary' },
    training: { epochs: 5, batchSize: 32, seed: 1 },
  });
  await service.waitForJob(job.jobId);
  return job.modelId as string;
}

export async function httpPredict(connections = 10, seconds = 10): Promise<HttpSection> {
  const bare = await bareServer();
  let bareFigures: HttpFigures;
  try {
    bareFigures = await drive(bare.url, connections, seconds);
  } finally {
    await bare.stop();
  }
  const service = await startService();
  try {
    const modelId = await trainSmallModel(service);
    await waitFor('the model', async () => ((await fetch(`${service.base}/v1/models/${modelId}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY })).ok ? true : undefined));
    const predict = await drive(`${service.base}/v1/models/${modelId}/predict`, connections, seconds);
    return { connections, seconds, bare: bareFigures, predict, ratio: round(predict.requestsPerSecond / bareFigures.requestsPerSecond, 3) };
  } finally {
    await service.stop();
  }
}
