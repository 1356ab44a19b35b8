// Frozen inference latency and throughput, direct vs folded engine, on the MNIST-size net of the seeds
// (784-256-128-64-10, BN before ReLU) and a blobs-size net (2-128-1). Writes bench/results/inference.json.
// Run: npx tsc -p tsconfig.json && node dist/bench/inference-bench.js
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createDirectEngine, createFoldedEngine, type FrozenModel } from '../src/inference/index.js';
import { makeCheckpoint, randomRows, type CheckpointOptions } from '../test/helpers/make-checkpoint.js';

const NETS: { name: string; opts: CheckpointOptions; calls: number }[] = [
  { name: 'mnist 784-256-128-64-10', opts: { inputDim: 784, hidden: [256, 128, 64], task: 'multiclass', classes: 10 }, calls: 4000 },
  { name: 'blobs 2-128-1', opts: { inputDim: 2, hidden: [128], task: 'binary' }, calls: 40000 },
];
const ROUNDS = 5; // engines alternate round by round so that background load hits both alike
const BATCH = 100;

interface Samples {
  oneUs: number[];
  batchUs: number[];
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const nowUs = (): number => Number(process.hrtime.bigint()) / 1e3;

function sample(model: FrozenModel, rows: number[][], calls: number, into: Samples): void {
  for (let c = 0; c < calls; c++) {
    const x = rows[c % rows.length];
    const t = nowUs();
    model.predictOne(x);
    into.oneUs.push(nowUs() - t);
  }
  for (let c = 0; c < Math.max(20, calls / 200); c++) {
    const t = nowUs();
    model.predict(rows);
    into.batchUs.push(nowUs() - t);
  }
}

const results: Record<string, unknown>[] = [];
for (const net of NETS) {
  const doc = makeCheckpoint({ ...net.opts, seed: 42 });
  // Inputs in [0, 1) like scaled pixels; hidden ReLUs still zero about half of the units.
  const rows = randomRows(BATCH, net.opts.inputDim, 43).map((r) => r.map((v) => (v + 2) / 4));
  const engines = [createDirectEngine(), createFoldedEngine()].map((engine) => {
    const t = nowUs();
    const model = engine.load(doc);
    return { engine: engine.name, loadMs: (nowUs() - t) / 1e3, model, samples: { oneUs: [], batchUs: [] } as Samples };
  });
  for (const e of engines) sample(e.model, rows, net.calls, { oneUs: [], batchUs: [] }); // warm-up (JIT)
  for (let r = 0; r < ROUNDS; r++) for (const e of engines) sample(e.model, rows, net.calls / ROUNDS, e.samples);
  for (const e of engines) {
    const one = [...e.samples.oneUs].sort((a, b) => a - b);
    const batch = [...e.samples.batchUs].sort((a, b) => a - b);
    const batchMedian = quantile(batch, 0.5);
    results.push({
      net: net.name,
      engine: e.engine,
      loadMs: +e.loadMs.toFixed(2),
      onePointMedianUs: +quantile(one, 0.5).toFixed(2),
      onePointP99Us: +quantile(one, 0.99).toFixed(2),
      batch100MedianUs: +batchMedian.toFixed(1),
      // A 100-row batch spans several scheduler ticks: on a shared machine its best time is the steadier figure.
      batch100BestUs: +batch[0].toFixed(1),
      batch100RowsPerSec: Math.round((BATCH / batchMedian) * 1e6),
      calls: one.length,
    });
  }
}

const report = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  // Other work on the machine inflates p99 and batch medians; one-point medians stay steady.
  loadAverage1m: +loadavg()[0].toFixed(2),
  note: 'Float64Array, kernel stored [units][inputs], eight outputs per pass; inputs uniform in [0, 1)',
  results,
};
const dir = new URL('../../bench/results/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('inference.json', dir), `${JSON.stringify(report, null, 2)}\n`);
console.table(results);
console.log(`written to ${new URL('inference.json', dir).pathname}`);
