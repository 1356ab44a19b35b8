// npm run bench: the whole suite in one run on one machine, as ratios to PyTorch and to the bare HTTP
// stack. Prints the tables and writes bench/RESULTS.md (and the raw figures to bench/results/suite.json).
// Sections: node dist/bench/run-all.js [compute] [width] [http] [training] [storage]   (default: all; only
// a full run writes the files)
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import { initBackend, type BackendPreference } from '../src/model/index.js';
import { machine } from './lib/stats.js';
import { findTorch, type TorchRunner } from './lib/torch.js';
import { predictionCompute, type ComputeRow } from './sections/prediction-compute.js';
import { widthScaling, type WidthRow } from './sections/width-scaling.js';
import { httpPredict, type HttpSection } from './sections/http-predict.js';
import { FEATURES } from './lib/http-features.js';
import { trainingSection, type TrainingSection } from './sections/training.js';
import { storageSection, type StorageSection } from './sections/storage.js';

const require = createRequire(import.meta.url);
const version = (pkg: string): string => {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'absent';
  }
};

const wanted = new Set(process.argv.slice(2));
const run = (section: string) => wanted.size === 0 || wanted.has(section);

const us = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const ratio = (a: number | null | undefined, b: number | null | undefined): string => (a && b ? `${(a / b).toFixed(2)}×` : '–');
const int = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : Math.round(v).toLocaleString('en-US'));

function computeTable(rows: ComputeRow[]): string {
  const head = '| network | multiply-adds | served by (auto) | ours: median / p99 µs | folded TS: median / p99 µs | onnxruntime: median / p99 µs | TF.js predict: median / p99 µs | PyTorch eval: median / p99 µs | ours vs PyTorch (median) |';
  const lines = rows.map((r) => {
    const ours = r.auto === 'onnx' && r.onnx ? r.onnx : r.folded;
    return `| ${r.net} | ${int(r.multiplyAdds)} | ${r.auto} | ${us(ours.medianUs)} / ${us(ours.p99Us)} | ${us(r.folded.medianUs)} / ${us(r.folded.p99Us)} | ${us(r.onnx?.medianUs)} / ${us(r.onnx?.p99Us)} | ${us(r.tfjs.medianUs)} / ${us(r.tfjs.p99Us)} | ${us(r.torch?.medianUs)} / ${us(r.torch?.p99Us)} | ${r.torch ? `${(ours.medianUs / r.torch.medianUs).toFixed(2)}× the time` : '–'} |`;
  });
  return [head, head.replace(/[^|]+/g, '---'), ...lines].join('\n');
}

function widthTable(rows: WidthRow[]): string {
  const head = '| width w (784-w-w/2-w/4-10) | multiply-adds | auto serves | folded TS µs | onnxruntime µs | training engine (auto) | training samples/s, ours: 1 / 2 threads | PyTorch: 1 / 2 threads | ours / PyTorch (each at its best) |';
  const pair = (t: Record<number, number> | null) => (t ? `${int(t[1])} / ${int(t[2])}` : '–');
  const lines = rows.map((r) => `| ${r.width} | ${int(r.multiplyAdds)} | ${r.auto} | ${us(r.foldedUs)} | ${us(r.onnxUs)} | ${r.trainEngine} | ${pair(r.trainByThreads)} | ${pair(r.torchByThreads)} | ${ratio(r.trainSamplesPerSecond, r.torchTrainSamplesPerSecond)} |`);
  return [head, head.replace(/[^|]+/g, '---'), ...lines].join('\n');
}

function httpTable(h: HttpSection): string {
  const head = '| network | server | requests/s | p50 ms | p99 ms | errors | non-2xx | vs FastAPI + PyTorch (as uvicorn runs it / tuned) |';
  type F = HttpSection['bare'];
  const line = (net: string, name: string, f: F, peers: [F, F] | null) =>
    `| ${net} | ${name} | ${int(f.requestsPerSecond)} | ${f.p50Ms} | ${f.p99Ms} | ${f.errors} | ${f.non2xx} | ${peers ? `${ratio(f.requestsPerSecond, peers[0].requestsPerSecond)} / ${ratio(f.requestsPerSecond, peers[1].requestsPerSecond)}` : '–'} |`;
  const pct = (r: number) => `${(r * 100).toFixed(0)} %`;
  const rows = h.networks.flatMap((n) => {
    const peers: [F, F] | null = n.peer && n.peerTuned ? [n.peer, n.peerTuned] : null;
    return [
      line(n.net, 'POST /v1/models/:id/predict', n.v1, peers),
      line(n.net, 'POST /v2/models/:id/infer, JSON', n.v2Json, peers),
      line(n.net, 'POST /v2/models/:id/infer, binary tensor data', n.v2Binary, peers),
      ...(peers
        ? [line(n.net, 'FastAPI + uvicorn + PyTorch eval, as `uvicorn app:app` runs it (def route, access log)', peers[0], null),
          line(n.net, 'FastAPI + uvicorn + PyTorch eval, tuned (async def route, no access log)', peers[1], null)]
        : [`| ${n.net} | FastAPI + uvicorn + PyTorch eval | – | – | – | – | – | – |`]),
    ];
  });
  const targets = h.networks.map((n) => {
    const ours = [n.v1, n.v2Json, n.v2Binary];
    const least = (peer: F | null) => (peer ? `${(Math.min(...ours.map((f) => f.requestsPerSecond)) / peer.requestsPerSecond).toFixed(1)}×` : '–');
    const tenfold = n.peer ? ours.every((f) => f.requestsPerSecond >= 10 * (n.peer as F).requestsPerSecond) : null;
    const p99 = ours.every((f) => f.p99Ms <= 5);
    return `${n.net}: 10× the peer's requests/s ${tenfold === null ? 'not measured (no peer)' : tenfold ? 'met' : '**not met**'} (the slowest of v1 and v2 at ${least(n.peer)} the peer as uvicorn runs it, ${least(n.peerTuned)} the tuned one); p99 at most 5 ms ${p99 ? 'met' : '**not met**'}; v2 binary / v2 JSON ${ratio(n.v2Binary.requestsPerSecond, n.v2Json.requestsPerSecond)}.`;
  });
  return [
    head,
    head.replace(/[^|]+/g, '---'),
    ...rows,
    line('–', 'bare Fastify route, constant answer (the HTTP stack alone)', h.bare, null),
    line('–', `the bare route plus the service's per-request features (${FEATURES.join(', ')}), constant answer`, h.bareWithFeatures, null),
  ].join('\n') +
    `\n\n${targets.join(' ')} Every answer was checked against the service's v1 answer before timing (worst relative difference ${Math.max(...h.networks.map((n) => n.worstRelativeError)).toExponential(1)}). The small network's v1 route reaches ${pct(h.ratio)} of the bare route; the per-request features alone leave ${pct(h.featuresRatio)} of it (${h.connections} connections; the best of ${h.rounds} alternating ${h.seconds} s rounds of each, after a 2 s warm-up). ${h.peerNote}.`;
}

function trainingTable(t: TrainingSection): string {
  const head = '| workload | ours | PyTorch | ours / PyTorch |';
  const m = t.mnist;
  const torch = m.torchByThreads ? `${int(m.torchSamplesPerSecond)} (1 thread ${int(m.torchByThreads[1])}, 2 threads ${int(m.torchByThreads[2])})` : '–';
  const lines = [
    `| MNIST-size network, batch 128, Adam, through a real job (samples/s, ${m.timedEpochs} epochs after a warm-up epoch, ${m.rows} rows), default settings: a job per core, one thread each | ${int(m.samplesPerSecond)} | ${torch} | ${ratio(m.samplesPerSecond, m.torchSamplesPerSecond)} |`,
    `| the same with WORKER_CONCURRENCY=1: one job at a time, its products on every core (TRAIN_THREADS = cores) | ${int(m.allCoresSamplesPerSecond)} | ${torch} | ${ratio(m.allCoresSamplesPerSecond, m.torchSamplesPerSecond)} |`,
    ...t.smallJobs.perConcurrency.map((c) => `| small network jobs/hour, ${t.smallJobs.jobs} jobs × ${t.smallJobs.epochs} epochs on builtin:blobs, WORKER_CONCURRENCY=${c.concurrency} (${c.seconds} s) | ${int(c.jobsPerHour)} | – | – |`),
  ];
  return [head, head.replace(/[^|]+/g, '---'), ...lines].join('\n');
}

function storageTable(s: StorageSection): string {
  const mb = (b: number) => (b / 1e6).toFixed(b < 1e6 ? 3 : 1);
  const head = '| network | parameters | save (median) | newest checkpoint on disk | older checkpoint on disk | newest / raw float32 |';
  const lines = s.checkpoints.map((c) => `| ${c.net} | ${int(c.parameters)} | ${c.saveMs} ms | ${mb(c.newestBytes)} MB | ${mb(c.olderBytes)} MB | ${c.overRaw.toFixed(3)}× |`);
  const epochs = `| epoch of the job | ${s.longJob.perEpoch.map((e) => int(e.epoch)).join(' | ')} |\n|${' --- |'.repeat(s.longJob.perEpoch.length + 1)}\n| wall time per epoch (median of the 10 epochs up to it) | ${s.longJob.perEpoch.map((e) => `${e.ms} ms`).join(' | ')} |`;
  return [head, head.replace(/[^|]+/g, '---'), ...lines].join('\n') + `\n\nOne ${s.longJob.net} job of ${int(s.longJob.epochs)} epochs on builtin:blobs through the service (default retention), timed by the arrival of its \`epoch\` events:\n\n${epochs}`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const backend = await initBackend((process.env.TFJS_BACKEND as BackendPreference | undefined) ?? 'auto');
  const found = findTorch();
  const torch: TorchRunner | null = 'missing' in found ? null : found;
  const torchNote = torch ? `PyTorch ${torch.version} (${torch.python}): one thread for prediction, 1 and 2 threads for training (the better one compared)` : `PyTorch columns empty: ${(found as { missing: string }).missing}`;
  console.log(`bench: TF.js backend ${backend.backend}; ${torchNote}`);

  const results: Record<string, unknown> = {};
  const sections: string[] = [];
  if (run('compute')) {
    console.log('bench: prediction compute ...');
    const rows = await predictionCompute(torch);
    results.compute = rows;
    sections.push(`## 1. Prediction compute (one point, in process)\n\n${computeTable(rows)}\n\n"ours" is the engine \`INFERENCE_ENGINE=auto\` serves the model with. Every engine's answer (and PyTorch's) was checked against the float64 reference engine within 1e-5 before timing; the worst relative difference was ${Math.max(...rows.map((r) => r.worstRelativeError)).toExponential(1)}.`);
    console.log(computeTable(rows));
  }
  if (run('width')) {
    console.log('bench: width scaling ...');
    const rows = await widthScaling(torch);
    results.width = rows;
    sections.push(`## 2. How cost grows with width\n\n${widthTable(rows)}\n\nPrediction: one-point median. Training: in process (no queue), the best of three epochs of 4,096 rows after a warm-up epoch, batch 128, Adam; ours with TRAIN_THREADS 1 and 2 and PyTorch with 1 and 2 threads, run alternately, each side compared at its better count.`);
    console.log(widthTable(rows));
  }
  if (run('http')) {
    console.log('bench: prediction over HTTP ...');
    const h = await httpPredict();
    results.http = h;
    sections.push(`## 3. Prediction over HTTP (autocannon on loopback)\n\n${httpTable(h)}\n\nThe service runs as \`npm start\` runs it (ROLE=all, embedded Redis, LOG_LEVEL=info), rate limiting off (one load generator is one client). The binary rows send what tritonclient sends (no Content-Type, the FP32 input as binary tensor data, binary_data_output). The peer is bench/torch/fastapi_peer.py: the same checkpoint document loaded into torch.nn modules in eval mode, one uvicorn worker, once as \`uvicorn app:app\` runs it (a plain def route, the access log on, to nowhere) and once tuned (an async def route, no access log). The bare route is Fastify with no plugins answering a constant; the row after it adds the service's per-request features with the service's own code (bench/bare-server.ts; \`npm run bench:http-costs\` prices them one by one).`);
    console.log(httpTable(h));
  }
  if (run('training')) {
    console.log('bench: training through jobs ...');
    const t = await trainingSection(torch);
    results.training = t;
    sections.push(`## 4. Training throughput\n\n${trainingTable(t)}\n\nEach job runs in its own sandboxed worker process; the MNIST-size network trains on the onnx engine with TRAIN_THREADS = cores / WORKER_CONCURRENCY threads, the small network on the loop engine. WORKER_CONCURRENCY=2 trains two jobs at once on this 2-core machine.`);
    console.log(trainingTable(t));
  }

  if (run('storage')) {
    console.log('bench: storage ...');
    const st = await storageSection();
    results.storage = st;
    sections.push(`## 5. Storage\n\n${storageTable(st)}\n\nA save is the training child's: tensors written as float32 files (weights.bin, and the optimizer state in the newest checkpoint), each fsynced, the directory renamed into place and fsynced. The newest checkpoint holds weights and optimizer moments; older ones give their optimizer state up.`);
    console.log(storageTable(st));
  }

  const header = [
    '# Benchmark results',
    '',
    `Produced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} in ${Math.round((Date.now() - started) / 1000)} s. Figures from one run on one machine; rerun to compare.`,
    '',
    `- Machine: ${machine()}`,
    `- TF.js ${version('@tensorflow/tfjs')} on the ${backend.backend} backend; onnxruntime-node ${version('onnxruntime-node')}; Fastify ${version('fastify')}; autocannon ${version('autocannon')}`,
    `- ${torchNote}`,
    '',
  ].join('\n');
  // Only a full run replaces the recorded figures: a single section would leave them out of step.
  if (wanted.size === 0) {
    await fs.mkdir('bench/results', { recursive: true });
    await fs.writeFile('bench/results/suite.json', `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), backend: backend.backend, torch: torch?.version ?? null, ...results }, null, 2)}\n`);
    await fs.writeFile('bench/RESULTS.md', `${header}\n${sections.join('\n\n')}\n`);
  }
  console.log(`bench: done in ${Math.round((Date.now() - started) / 1000)} s${wanted.size === 0 ? '; wrote bench/RESULTS.md and bench/results/suite.json' : ''}`);
}

await main();
