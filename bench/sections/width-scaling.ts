// How cost grows with width: 784-w-w/2-w/4-10 for w = 64 ... 1024 (w = 256 is the MNIST-size network).
// One-point prediction per engine, and training samples/s (in process, batch 128, Adam) of our engine
// next to PyTorch's, each with 1 and 2 threads, run alternately (ours 1, PyTorch 1, ours 2, PyTorch 2)
// so that both see the same machine; each side is compared by its better thread count, and each run by
// its best epoch after the warm-up one (the shortest epoch is the one least disturbed by neighbours).
import { createFoldedEngine, createInferenceEngine, createOnnxEngine, loadOnnxRuntime, multiplyAdds } from '../../src/inference/index.js';
import { configureTrainEngine } from '../../src/model/index.js';
import { autoEngine } from '../../src/model/train-step.js';
import { createNetwork, disposeNetwork } from '../../src/model/network.js';
import { resolveSpec } from '../../src/model/spec.js';
import { latencyOf, round } from '../lib/stats.js';
import { TRAIN_THREADS, torchTrainSamplesPerSecond, type TorchRunner } from '../lib/torch.js';
import { WIDTHS, mnistLike, widthNet, type Net } from '../lib/workloads.js';
import { trainNet } from './prediction-compute.js';

export interface WidthRow {
  width: number;
  multiplyAdds: number;
  auto: string;
  foldedUs: number;
  onnxUs: number | null;
  /** the training engine TRAIN_ENGINE=auto picks */
  trainEngine: string;
  /** ours with TRAIN_THREADS 1 and 2 */
  trainByThreads: Record<number, number>;
  trainSamplesPerSecond: number;
  torchByThreads: Record<number, number> | null;
  torchTrainSamplesPerSecond: number | null;
}

const TRAIN_ROWS = 4096;
const TRAIN_EPOCHS = 4; // the first is the warm-up, on both sides

/** Samples/s of the best epoch after the first. */
async function oursSamplesPerSecond(net: Net, threads: number) {
  configureTrainEngine({ engine: 'auto', threads });
  const res = await trainNet(net, mnistLike(TRAIN_ROWS), TRAIN_EPOCHS);
  return { ...res, samplesPerSecond: Math.max(...res.history.slice(1).map((h) => h.samplesPerSecond)) };
}

export async function widthScaling(torch: TorchRunner | null): Promise<WidthRow[]> {
  const ort = await loadOnnxRuntime();
  const auto = (await createInferenceEngine('auto')).engine;
  const x = mnistLike(1).features[0];
  const rows: WidthRow[] = [];
  try {
    for (const w of WIDTHS) {
      const net = widthNet(w);
      const probe = createNetwork(resolveSpec({ hidden: net.hidden, task: 'multiclass' }, { inputDim: net.inputDim, outputDim: net.classes }, 1));
      const trainEngine = autoEngine(probe).engine;
      disposeNetwork(probe);
      const trainByThreads: Record<number, number> = {};
      const torchByThreads: Record<number, number> = {};
      let trained: Awaited<ReturnType<typeof oursSamplesPerSecond>> | undefined;
      for (const threads of TRAIN_THREADS) {
        trained = await oursSamplesPerSecond(net, threads);
        trainByThreads[threads] = round(trained.samplesPerSecond, 0);
        if (torch) {
          torchByThreads[threads] = round(
            torchTrainSamplesPerSecond(torch, { inputDim: net.inputDim, hidden: net.hidden, classes: net.classes, rows: TRAIN_ROWS, epochs: TRAIN_EPOCHS, batchSize: 128, lr: 0.01 }, threads, 'best'),
            0,
          );
        }
      }
      const { checkpoint } = trained!;
      const folded = await createFoldedEngine().load(checkpoint);
      const onnx = ort instanceof Error ? null : await createOnnxEngine(ort).load(checkpoint);
      const calls = Math.min(5000, Math.round(2_000_000 / w));
      rows.push({
        width: w,
        multiplyAdds: multiplyAdds(checkpoint),
        auto: (await auto.load(checkpoint)).engine,
        foldedUs: round((await latencyOf(() => folded.predictOne(x), calls)).medianUs, 1),
        onnxUs: onnx ? round((await latencyOf(() => onnx.predictOne(x), calls)).medianUs, 1) : null,
        trainEngine,
        trainByThreads,
        trainSamplesPerSecond: Math.max(...Object.values(trainByThreads)),
        torchByThreads: torch ? torchByThreads : null,
        torchTrainSamplesPerSecond: torch ? Math.max(...Object.values(torchByThreads)) : null,
      });
    }
  } finally {
    configureTrainEngine({ engine: 'auto', threads: 1 });
  }
  return rows;
}
