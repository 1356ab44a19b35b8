// Prediction over HTTP, driven by autocannon on loopback (16 connections), against what a user would pick
// instead: FastAPI + uvicorn + PyTorch in eval mode serving the same checkpoint (bench/torch/fastapi_peer.py),
// as `uvicorn app:app` runs it and tuned (async route, no access log).
// For the small 2-3-2-1 network and the MNIST-size one: POST /v1/models/:id/predict, the Open Inference
// Protocol's infer in JSON and with binary tensor data (as tritonclient sends it: no Content-Type, binary
// input, binary_data_output), and the peer. Every server's answer is checked against the service's v1
// answer (1e-5) before timing. Two more rows record what the HTTP stack itself costs: a bare Fastify route
// answering a constant (bench/bare-server.ts) and the same route with the service's per-request features.
// Every server runs side by side and all are driven in turns (ROUNDS each); the best round of each
// counts, so that a burst of other work on the machine during one round does not decide a ratio.
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { freePort, startService, waitFor, type Service } from '../lib/service.js';
import { round } from '../lib/stats.js';
import { FEATURES } from '../lib/http-features.js';
import { findPeerPython, startPeer, type Peer } from '../lib/fastapi-peer.js';
import { MNIST, SMALL, mnistLike, type Net } from '../lib/workloads.js';

export interface HttpFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** Requests completed in the round. */
  requests: number;
}

/** One server route and the request it is driven with. */
export interface Target {
  url: string;
  body: string | Buffer;
  headers: Record<string, string>;
}

export interface NetworkRows {
  net: string;
  v1: HttpFigures;
  v2Json: HttpFigures;
  v2Binary: HttpFigures;
  /** As `uvicorn app:app` runs it; null without python3 + torch + fastapi + uvicorn. */
  peer: HttpFigures | null;
  /** Async route, no access log. */
  peerTuned: HttpFigures | null;
  /** Largest |y - y(v1)| / max(1, |y(v1)|) over v2 JSON, v2 binary and the peer, checked before timing. */
  worstRelativeError: number;
}

export interface HttpSection {
  connections: number;
  seconds: number;
  rounds: number;
  bare: HttpFigures;
  /** The bare route plus every per-request feature of the service (FEATURES), with the service's code. */
  bareWithFeatures: HttpFigures;
  networks: NetworkRows[];
  /** "FastAPI 0.92.0, uvicorn 0.17.6, PyTorch 1.13.0" or why the peer's rows are empty */
  peerNote: string;
  /** small network's v1 predict / bare */
  ratio: number;
  /** bareWithFeatures / bare: what the features alone leave of the ceiling, without any prediction work. */
  featuresRatio: number;
}

const SMALL_X = [0.25, 0.05];
const BODY = JSON.stringify({ x: SMALL_X });
const JSON_HEADERS = { 'content-type': 'application/json' };

const ROUNDS = 3;
const HEADER_LENGTH = 'inference-header-content-length';

/** A string target is the small network's v1 one-point body. */
export async function drive(target: string | Target, connections: number, seconds: number): Promise<HttpFigures> {
  const t = typeof target === 'string' ? { url: target, body: BODY, headers: JSON_HEADERS } : target;
  const r = await autocannon({ url: t.url, method: 'POST', headers: t.headers, body: t.body, connections, duration: seconds });
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

/** Trains `net` through a real job (the small one on builtin:blobs, the MNIST-size one on MNIST-like rows); its model id once it predicts. */
async function trainModel(service: Service, net: Net): Promise<string> {
  const model = { hidden: net.hidden, task: net.classes === 1 ? 'binary' : 'multiclass' };
  const job =
    net === SMALL
      ? await service.json('POST', '/v1/training-jobs', { datasetId: 'builtin:blobs', model, training: { epochs: 5, batchSize: 32, seed: 1 } })
      : await service.json('POST', '/v1/training-jobs', { data: mnistLike(512, net.inputDim, net.classes), model, training: { epochs: 1, batchSize: 128, seed: 1 } });
  await service.waitForJob(job.jobId);
  const modelId = job.modelId as string;
  const x = net === SMALL ? SMALL_X : mnistLike(1, net.inputDim, net.classes, 7).features[0];
  const url = `${service.base}/v1/models/${modelId}/predict`;
  await waitFor('the model', async () => ((await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ x }) })).ok ? true : undefined));
  return modelId;
}

/** The small network (2 inputs, 3-2 hidden, 1 output) trained through a real job; its prediction URL. */
export async function smallModelPredictUrl(service: Service): Promise<string> {
  return `${service.base}/v1/models/${await trainModel(service, SMALL)}/predict`;
}

/** The v2 binary request tritonclient sends for one FP32 row: no Content-Type, binary input, binary_data_output. */
function binaryInfer(url: string, x: number[]): Target {
  const json = JSON.stringify({
    inputs: [{ name: 'x', shape: [1, x.length], datatype: 'FP32', parameters: { binary_data_size: 4 * x.length } }],
    parameters: { binary_data_output: true },
  });
  const tensor = Buffer.alloc(4 * x.length);
  x.forEach((v, j) => tensor.writeFloatLE(v, 4 * j));
  return { url, body: Buffer.concat([Buffer.from(json), tensor]), headers: { [HEADER_LENGTH]: String(Buffer.byteLength(json)) } };
}

async function answer(t: Target): Promise<number[]> {
  const res = await fetch(t.url, { method: 'POST', headers: t.headers, body: typeof t.body === 'string' ? t.body : new Uint8Array(t.body) });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(`${t.url}: ${res.status} ${bytes.toString().slice(0, 300)}`);
  const headerLength = res.headers.get(HEADER_LENGTH);
  if (headerLength === null) {
    const body = JSON.parse(bytes.toString()) as { y?: number[]; outputs?: { data: number[] }[] };
    return body.y ?? (body.outputs as { data: number[] }[])[0].data;
  }
  const tensor = bytes.subarray(Number(headerLength));
  return Array.from({ length: tensor.length / 4 }, (_, j) => tensor.readFloatLE(4 * j));
}

function relError(y: readonly number[], ref: readonly number[]): number {
  if (y.length !== ref.length) return Infinity;
  let worst = 0;
  for (let j = 0; j < ref.length; j++) worst = Math.max(worst, Math.abs(y[j] - ref[j]) / Math.max(1, Math.abs(ref[j])));
  return worst;
}

interface Prepared {
  net: Net;
  v1: Target;
  v2Json: Target;
  v2Binary: Target;
  peer: Target | null;
  peerTuned: Target | null;
  worstRelativeError: number;
}

async function prepare(service: Service, net: Net, peerPython: string | null, peers: Peer[]): Promise<Prepared> {
  const modelId = await trainModel(service, net);
  const x = net === SMALL ? SMALL_X : mnistLike(1, net.inputDim, net.classes, 7).features[0];
  const v1 = { url: `${service.base}/v1/models/${modelId}/predict`, body: JSON.stringify({ x }), headers: JSON_HEADERS };
  const inferUrl = `${service.base}/v2/models/${modelId}/infer`;
  const v2Json = { url: inferUrl, body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, x.length], datatype: 'FP32', data: x }] }), headers: JSON_HEADERS };
  const v2Binary = binaryInfer(inferUrl, x);
  const startOne = async (tuned: boolean): Promise<Target | null> => {
    if (!peerPython) return null;
    const p = await startPeer(peerPython, `${service.base}/v1/models/${modelId}/checkpoints/latest`, tuned);
    peers.push(p);
    return { url: p.url, body: v1.body, headers: JSON_HEADERS };
  };
  const peer = await startOne(false);
  const peerTuned = await startOne(true);
  const reference = await answer(v1);
  let worst = 0;
  for (const t of [v2Json, v2Binary, peer, peerTuned]) if (t) worst = Math.max(worst, relError(await answer(t), reference));
  if (!(worst <= 1e-5)) throw new Error(`${net.name}: a server's answer differs from the service's v1 answer by ${worst} (relative)`);
  return { net, v1, v2Json, v2Binary, peer, peerTuned, worstRelativeError: worst };
}

const best = (runs: HttpFigures[]): HttpFigures => runs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));

export async function httpPredict(connections = 16, seconds = 4): Promise<HttpSection> {
  const found = findPeerPython();
  const peerPython = 'missing' in found ? null : found.python;
  const bare = await startBareServer();
  const featured = await startBareServer(FEATURES);
  const service = await startService();
  const peers: Peer[] = [];
  try {
    const nets = [await prepare(service, SMALL, peerPython, peers), await prepare(service, MNIST, peerPython, peers)];
    const targets: Target[] = [
      { url: bare.url, body: BODY, headers: JSON_HEADERS },
      { url: featured.url, body: BODY, headers: JSON_HEADERS },
      ...nets.flatMap((n) => [n.v1, n.v2Json, n.v2Binary, ...(n.peer && n.peerTuned ? [n.peer, n.peerTuned] : [])]),
    ];
    // Warm-up: JIT, the model cache, connection pools.
    for (const t of targets) await drive(t, connections, 2);
    const runs = new Map<Target, HttpFigures[]>(targets.map((t) => [t, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of targets) runs.get(t)?.push(await drive(t, connections, seconds));
    }
    const of = (t: Target) => best(runs.get(t) as HttpFigures[]);
    const bareFigures = of(targets[0]);
    const featuredFigures = of(targets[1]);
    const networks = nets.map((n) => ({
      net: n.net.name,
      v1: of(n.v1),
      v2Json: of(n.v2Json),
      v2Binary: of(n.v2Binary),
      peer: n.peer ? of(n.peer) : null,
      peerTuned: n.peerTuned ? of(n.peerTuned) : null,
      worstRelativeError: n.worstRelativeError,
    }));
    return {
      connections,
      seconds,
      rounds: ROUNDS,
      bare: bareFigures,
      bareWithFeatures: featuredFigures,
      networks,
      peerNote: 'missing' in found ? `FastAPI + PyTorch rows empty: ${found.missing}` : `${found.versions} (${found.python})`,
      ratio: round(networks[0].v1.requestsPerSecond / bareFigures.requestsPerSecond, 3),
      featuresRatio: round(featuredFigures.requestsPerSecond / bareFigures.requestsPerSecond, 3),
    };
  } finally {
    await Promise.all([bare.stop(), featured.stop(), service.stop(), ...peers.map((p) => p.stop())]);
  }
}
