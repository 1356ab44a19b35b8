// How cost grows with width: 784-w-w/2-w/4-10 for w = 64 ... 1024 (w = 256 is the MNIST-size network).
// One-point prediction per engine, and training samples/s of our engine (in process, batch 128, Adam)
// next to PyTorch's.
import { createFoldedEngine, createInferenceEngine, createOnnxEngine, loadOnnxRuntime, multiplyAdds } from '../../src/inference/index.js';
import { latencyOf, round } from '../lib/stats.js';
import type { TorchRunner } from '../lib/torch.js';
import { WIDTHS, mnistLike, widthNet } from '../lib/workloads.js';
import { trainNet } from './prediction-compute.js';

export interface WidthRow {
  width: number;
  multiplyAdds: number;
  auto: string;
  foldedUs: number;
  onnxUs: number | null;
  trainSamplesPerSecond: number;
  torchTrainSamplesPerSecond: number | null;
}

const TRAIN_ROWS = 2048;

export async function widthScaling(torch: TorchRunner | null): Promise<WidthRow[]> {
  const ort = await loadOnnxRuntime();
  const auto = (await createInferenceEngine('auto')).engine;
  const x = mnistLike(1).features[0];
  const rows: WidthRow[] = [];
  for (const w of WIDTHS) {
    const net = widthNet(w);
    // One run gives both: the training figure (epoch 2; epoch 1 is the warm-up) and the weights to predict with.
    const { checkpoint, history } = await trainNet(net, mnistLike(TRAIN_ROWS), 2);
    const folded = await createFoldedEngine().load(checkpoint);
    const onnx = ort instanceof Error ? null : await createOnnxEngine(ort).load(checkpoint);
    const calls = Math.min(5000, Math.round(2_000_000 / w));
    rows.push({
      width: w,
      multiplyAdds: multiplyAdds(checkpoint),
      auto: (await auto.load(checkpoint)).engine,
      foldedUs: round((await latencyOf(() => folded.predictOne(x), calls)).medianUs, 1),
      onnxUs: onnx ? round((await latencyOf(() => onnx.predictOne(x), calls)).medianUs, 1) : null,
      trainSamplesPerSecond: round(history[1].samplesPerSecond, 0),
      torchTrainSamplesPerSecond: torch
        ? round(torch.run<{ samplesPerSecond: number }>({ task: 'train', inputDim: 784, hidden: net.hidden, classes: 10, rows: TRAIN_ROWS, epochs: 2, batchSize: 128, lr: 0.01 }).samplesPerSecond, 0)
        : null,
    });
  }
  return rows;
}
