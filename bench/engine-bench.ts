// Training throughput of each training engine (loops, onnx on 1 and 2 threads, tensor-ops) vs tf.layers
// fit on the same MLP (the MNIST-size 784-256-128-64-10, BN before ReLU, batch 128, Adam) with synthetic
// data, on the active backend, run one after the other in one process.
// Also one-point inference latency: the service's frozen engine vs tf.layers predict on the backend.
// Usage: node dist/bench/engine-bench.js [rows=4096] [epochs=3]   (TFJS_BACKEND picks the backend)
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { configureTrainEngine, initBackend, resolveSpec, resolveTraining, train, type BackendPreference, type TrainEngineName } from '../src/model/index.js';
import { createPrng } from '../src/util/prng.js';
import { partFromRows } from '../src/datasets/arrays.js';
import { createFoldedEngine } from '../src/inference/index.js';
import { tensorBytes, type Checkpoint } from '../src/checkpoint/checkpoint.js';

const rows = Number(process.argv[2] ?? 4096);
const epochs = Number(process.argv[3] ?? 3);
const HIDDEN = [256, 128, 64];
const D = 784;
const K = 10;
const BATCH = 128;

function syntheticData(): { features: number[][]; labels: number[] } {
  const p = createPrng(1);
  const features: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < rows; i++) {
    const y = i % K;
    features.push(Array.from({ length: D }, (_, j) => (j % K === y ? 0.5 : 0) + p.next()));
    labels.push(y);
  }
  return { features, labels };
}

/** The engines compared: every engine, onnx also on two threads. */
const ENGINES: { engine: TrainEngineName; threads: number }[] = [
  { engine: 'loops', threads: 1 },
  { engine: 'onnx', threads: 1 },
  { engine: 'onnx', threads: 2 },
  { engine: 'tensor-ops', threads: 1 },
];

async function benchEngine(data: ReturnType<typeof syntheticData>, engine: TrainEngineName, threads: number) {
  configureTrainEngine({ engine, threads });
  const training = resolveTraining({ epochs: epochs + 1, batchSize: BATCH, optimizer: 'adam', learningRate: 0.01, validationSplit: 0, seed: 1 });
  const spec = resolveSpec({ hidden: HIDDEN, task: 'multiclass' }, { inputDim: D, outputDim: K }, 1);
  const t0 = performance.now();
  const res = await train({
    modelId: 'bench',
    spec,
    training,
    data: partFromRows(data.features, data.labels),
  });
  const wallMs = performance.now() - t0;
  const checkpointBytes = tensorBytes(res.last.checkpoint.layers) + res.last.state.optimizer.slots.reduce((n, s) => n + s.values.byteLength, 0);
  // what an epoch costs beyond its batches and metrics: snapshot, checkpoint, optimizer state, artifacts
  const checkpointMs = (wallMs - res.history.reduce((s, h) => s + h.durationMs, 0)) / res.history.length;
  const timed = res.history.slice(1); // epoch 1 is the warm-up
  const trainSeconds = timed.reduce((s, h) => s + rows / h.samplesPerSecond, 0);
  const epochMs = timed.reduce((s, h) => s + h.durationMs, 0) / timed.length;
  return {
    checkpoint: res.last.checkpoint,
    samplesPerSecond: (rows * timed.length) / trainSeconds,
    epochMs,
    wallMsAllEpochs: wallMs,
    checkpointMsPerEpoch: checkpointMs,
    checkpointBytes,
    finalLoss: timed[timed.length - 1].loss,
    finalAccuracy: timed[timed.length - 1].accuracy,
  };
}

function medianMicros(calls: number, fn: () => void): number {
  for (let i = 0; i < 50; i++) fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) * 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function frozenOnePointUs(doc: Checkpoint, x: number[]): Promise<number> {
  const model = await createFoldedEngine().load(doc);
  return medianMicros(2000, () => model.predictOne(x));
}

async function benchLayers(data: ReturnType<typeof syntheticData>) {
  const model = tf.sequential();
  HIDDEN.forEach((units, i) => {
    model.add(tf.layers.dense({ units, useBias: false, ...(i === 0 ? { inputShape: [D] } : {}) }));
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.activation({ activation: 'relu' }));
  });
  model.add(tf.layers.dense({ units: K, activation: 'softmax' }));
  const optimizer = tf.train.adam(0.01);
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = tf.tensor2d(data.features);
  const y = tf.tensor2d(data.labels, [rows, 1]);
  try {
    await model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: true, verbose: 0 }); // warm-up
    const t0 = performance.now();
    const h = await model.fit(x, y, { epochs, batchSize: BATCH, shuffle: true, verbose: 0 });
    const ms = performance.now() - t0;
    const loss = h.history.loss as number[];
    const one = tf.tensor2d([data.features[0]]);
    const onePointPredictUs = medianMicros(500, () => tf.tidy(() => (model.predict(one) as tf.Tensor).dataSync()));
    one.dispose();
    return {
      samplesPerSecond: (rows * epochs) / (ms / 1000),
      epochMs: ms / epochs,
      finalLoss: loss[loss.length - 1],
      onePointPredictUs,
    };
  } finally {
    tf.dispose([x, y]);
    model.dispose();
    optimizer.dispose();
  }
}

async function main(): Promise<void> {
  const info = await initBackend((process.env.TFJS_BACKEND as BackendPreference | undefined) ?? 'auto');
  const data = syntheticData();
  const engines = [];
  let checkpoint: Checkpoint | undefined;
  for (const { engine, threads } of ENGINES) {
    const { checkpoint: doc, ...figures } = await benchEngine(data, engine, threads);
    checkpoint ??= doc;
    engines.push({ engine, threads, ...figures });
  }
  configureTrainEngine({ engine: 'auto', threads: 1 });
  const layers = await benchLayers(data);
  const onePointInference = {
    frozenEngineMedianUs: await frozenOnePointUs(checkpoint!, data.features[0]),
    tfLayersPredictMedianUs: layers.onePointPredictUs,
  };
  const best = Math.max(...engines.map((e) => e.samplesPerSecond));
  const result = {
    date: new Date().toISOString(),
    backend: info.backend,
    node: process.version,
    cpus: os.cpus().length,
    model: `${D}-${HIDDEN.join('-')}-${K}, BN before ReLU, batch ${BATCH}, Adam`,
    rows,
    timedEpochs: epochs,
    engines,
    tfLayers: layers,
    speedup: best / layers.samplesPerSecond,
    onePointInference,
  };
  const dir = path.join(process.cwd(), 'bench', 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `engine-${info.backend}.json`), `${JSON.stringify(result, null, 2)}\n`);
  for (const e of engines) {
    console.log(
      `engine-bench ${info.backend}: ${e.engine} x${e.threads} ${e.samplesPerSecond.toFixed(0)} samples/s ` +
        `(epoch ${e.epochMs.toFixed(0)} ms + checkpoint ${e.checkpointMsPerEpoch.toFixed(0)} ms, final loss ${e.finalLoss.toFixed(4)})`,
    );
  }
  console.log(
    `engine-bench ${info.backend}: tf.layers fit ${layers.samplesPerSecond.toFixed(0)} samples/s, best engine x${result.speedup.toFixed(2)}; ` +
      `one point: frozen engine ${onePointInference.frozenEngineMedianUs.toFixed(0)} us, tf.layers predict ${onePointInference.tfLayersPredictMedianUs.toFixed(0)} us`,
  );
}

await main();
