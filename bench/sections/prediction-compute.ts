// Prediction compute: one-point latency of each engine on the same trained weights, next to TF.js
// model.predict on the active backend and PyTorch eval (when present). Every engine's answer is checked
// against the float64 direct reference (1e-5) before it is timed.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { resolveSpec, resolveTraining, train } from '../../src/model/index.js';
import { createDirectEngine, createFoldedEngine, createInferenceEngine, createOnnxEngine, loadOnnxRuntime, multiplyAdds, type FrozenModel } from '../../src/inference/index.js';
import type { EpochMetrics, TfjsModelJson } from '../../src/schemas/checkpoint.js';
import type { Checkpoint } from '../../src/checkpoint/checkpoint.js';
import { toDocument } from '../../src/checkpoint/document.js';
import { encodeCheckpoint } from '../../src/store/checkpoint-files.js';
import type { Matrix } from '../../src/model/index.js';
import { partFromRows } from '../../src/datasets/arrays.js';
import { latencyOf, round, type Latency } from '../lib/stats.js';
import type { TorchRunner } from '../lib/torch.js';
import { MNIST, SMALL, blobsData, mnistLike, type Net } from '../lib/workloads.js';

export interface ComputeRow {
  net: string;
  multiplyAdds: number;
  /** the engine INFERENCE_ENGINE=auto serves this model with */
  auto: string;
  folded: Latency;
  onnx: Latency | null;
  tfjs: Latency;
  torch: Latency | null;
  /** largest |y - reference| / max(1, |reference|) over the engines compared */
  worstRelativeError: number;
}

export async function trainNet(net: Net, data: Matrix, epochs: number): Promise<{ checkpoint: Checkpoint; tfjs: TfjsModelJson; history: EpochMetrics[] }> {
  const training = resolveTraining({ epochs, batchSize: net.classes === 1 ? 32 : 128, optimizer: 'adam', learningRate: 0.01, validationSplit: 0, seed: 1 });
  const task = net.classes === 1 ? 'binary' : 'multiclass';
  const spec = resolveSpec({ hidden: net.hidden, task }, { inputDim: net.inputDim, outputDim: net.classes }, 1);
  const res = await train({ modelId: `bench-${net.inputDim}-${net.hidden.join('-')}`, spec, training, data: partFromRows(data.features, data.labels) });
  return { checkpoint: res.last.checkpoint, tfjs: res.last.tfjs, history: res.history };
}

/** The checkpoint as the TF.js artifacts the service serves: its model.json and weights.bin. */
async function loadTfjs(checkpoint: Checkpoint, json: TfjsModelJson): Promise<tf.LayersModel> {
  const bin = new Uint8Array(Buffer.concat(encodeCheckpoint(checkpoint, json).weights)).buffer;
  const weightSpecs = json.weightsManifest[0].weights as tf.io.WeightsManifestEntry[];
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs, weightData: bin }));
}

function relError(y: readonly number[], ref: readonly number[]): number {
  let worst = 0;
  for (let j = 0; j < ref.length; j++) worst = Math.max(worst, Math.abs(y[j] - ref[j]) / Math.max(1, Math.abs(ref[j])));
  return worst;
}

async function timeModel(model: FrozenModel, x: number[], calls: number): Promise<Latency> {
  const l = await latencyOf(() => model.predictOne(x), calls);
  return { medianUs: round(l.medianUs, 2), p99Us: round(l.p99Us, 2) };
}

export async function computeRow(net: Net, checkpoint: Checkpoint, modelJson: TfjsModelJson, x: number[], torch: TorchRunner | null, calls: number): Promise<ComputeRow> {
  const reference = await (await createDirectEngine().load(checkpoint)).predictOne(x);
  const ort = await loadOnnxRuntime();
  const folded = await createFoldedEngine().load(checkpoint);
  const onnx = ort instanceof Error ? null : await createOnnxEngine(ort).load(checkpoint);
  const auto = await (await createInferenceEngine('auto')).engine.load(checkpoint);
  let worst = relError(await folded.predictOne(x), reference);
  if (onnx) worst = Math.max(worst, relError(await onnx.predictOne(x), reference));

  const tfModel = await loadTfjs(checkpoint, modelJson);
  const one = tf.tensor2d([x]);
  worst = Math.max(worst, relError(tf.tidy(() => Array.from((tfModel.predict(one) as tf.Tensor).dataSync())), reference));
  const tfjs = await latencyOf(() => tf.tidy(() => (tfModel.predict(one) as tf.Tensor).dataSync()), Math.min(calls, 3000));
  one.dispose();
  tfModel.dispose();

  let torchLatency: Latency | null = null;
  if (torch) {
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'bn-bench-torch-')), 'checkpoint.json');
    await fs.writeFile(file, JSON.stringify(toDocument(checkpoint)));
    const out = torch.run<Latency & { y: number[] }>({ task: 'predict', checkpoint: file, x, calls });
    await fs.rm(path.dirname(file), { recursive: true, force: true });
    worst = Math.max(worst, relError(out.y, reference));
    torchLatency = { medianUs: round(out.medianUs, 2), p99Us: round(out.p99Us, 2) };
  }
  if (worst > 1e-5) throw new Error(`${net.name}: an engine differs from the reference by ${worst} (relative)`);

  return {
    net: net.name,
    multiplyAdds: multiplyAdds(checkpoint),
    auto: auto.engine,
    folded: await timeModel(folded, x, calls),
    onnx: onnx ? await timeModel(onnx, x, calls) : null,
    tfjs: { medianUs: round(tfjs.medianUs, 2), p99Us: round(tfjs.p99Us, 2) },
    torch: torchLatency,
    worstRelativeError: worst,
  };
}

export async function predictionCompute(torch: TorchRunner | null): Promise<ComputeRow[]> {
  const rows: ComputeRow[] = [];
  const blobs = await blobsData();
  const small = await trainNet(SMALL, blobs, 5);
  rows.push(await computeRow(SMALL, small.checkpoint, small.tfjs, blobs.features[0], torch, 20_000));
  const mnist = mnistLike(1024);
  const big = await trainNet(MNIST, mnist, 1);
  rows.push(await computeRow(MNIST, big.checkpoint, big.tfjs, mnist.features[0], torch, 5000));
  return rows;
}
