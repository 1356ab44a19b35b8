// Prediction over HTTP: POST /v1/models/:id/predict with one point of the small 2-3-2-1 network, driven by
// autocannon on loopback, next to a bare Fastify route answering a constant (bench/bare-server.ts) in the
// same run: the ratio says what the service's own work costs on top of the HTTP stack. A third server, the
// bare route with the service's per-request features (bench/bare-server.ts), says how much of that the
// features alone take. The servers run side by side and are driven in turns (ROUNDS each); the best round
// of each counts, so that a burst of other work on the machine during one round does not decide a ratio.
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { freePort, startService, waitFor, type Service } from '../lib/service.js';
import { round } from '../lib/stats.js';
import { FEATURES } from '../lib/http-features.js';

export interface HttpFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** Requests completed in the round. */
  requests: number;
}

export interface HttpSection {
  connections: number;
  seconds: number;
  rounds: number;
  bare: HttpFigures;
  /** The bare route plus every per-request feature of the service (FEATURES), with the service's code. */
  bareWithFeatures: HttpFigures;
  predict: HttpFigures;
  /** predict / bare */
  ratio: number;
  /** bareWithFeatures / bare: what the features alone leave of the ceiling, without any prediction work. */
  featuresRatio: number;
}

const BODY = JSON.stringify({ x: [0.25, 0.05] });

const ROUNDS = 3;

export async function drive(url: string, connections: number, seconds: number): Promise<HttpFigures> {
  const r = await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections, duration: seconds });
  return {
    requestsPerSecond: round(r.requests.average, 0),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    requests: r.requests.total,
  };
}

export interface BareServer {
  url: string;
  pid: number;
  stop: () => Promise<void>;
}

/** bench/bare-server.ts in a child process, with the given service features added (none: the ceiling). */
export async function startBareServer(features: readonly string[] = []): Promise<BareServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/bench/bare-server.js'], {
    env: { ...process.env, PORT: String(port), FEATURES: features.join(',') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}${features.includes('route') ? '/v1/models/mdl_bench/predict' : '/predict'}`,
    pid: child.pid as number,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
  };
}

/**
 * Trains the small network (2 inputs, 3-2 hidden, 1 output) on builtin:blobs through a real job and
 * returns its prediction URL once the service answers it.
 */
export async function smallModelPredictUrl(service: Service): Promise<string> {
  const job = await service.json('POST', '/v1/training-jobs', {
    datasetId: 'builtin:blobs',
    model: { hidden: [3, 2], task: 'binary' },
    training: { epochs: 5, batchSize: 32, seed: 1 },
  });
  await service.waitForJob(job.jobId);
  const url = `${service.base}/v1/models/${job.modelId as string}/predict`;
  await waitFor('the model', async () => ((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY })).ok ? true : undefined));
  return url;
}

const best = (runs: HttpFigures[]): HttpFigures => runs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));

export async function httpPredict(connections = 10, seconds = 5): Promise<HttpSection> {
  const bare = await startBareServer();
  const featured = await startBareServer(FEATURES);
  const service = await startService();
  try {
    const predictUrl = await smallModelPredictUrl(service);
    const urls = [bare.url, featured.url, predictUrl];
    // Warm-up: JIT, the model cache, connection pools.
    for (const url of urls) await drive(url, connections, 2);
    const runs: HttpFigures[][] = urls.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < urls.length; i++) runs[i].push(await drive(urls[i], connections, seconds));
    }
    const [b, f, p] = runs.map(best);
    return {
      connections,
      seconds,
      rounds: ROUNDS,
      bare: b,
      bareWithFeatures: f,
      predict: p,
      ratio: round(p.requestsPerSecond / b.requestsPerSecond, 3),
      featuresRatio: round(f.requestsPerSecond / b.requestsPerSecond, 3),
    };
  } finally {
    await Promise.all([bare.stop(), featured.stop(), service.stop()]);
  }
}
