// The training step and the choice of the engine that runs it. Every engine computes the same step:
// forward with batch statistics, the closed-form BN backward pass (Ioffe & Szegedy 2015, section 3),
// the loss's gradient, the optimizer of optimizer.ts (tfjs's update rules and slot names) and the
// moving averages; they differ in where the arithmetic runs.
//   loops       (engines/loop-step.ts) the products as TF.js ops, everything else in loops over host
//               memory: for small networks, and the path that runs on every backend
//   onnx        (engines/onnx-step.ts) the forward and backward pass as one onnxruntime graph per step,
//               on its MLAS kernels and TRAIN_THREADS threads (a count, or the machine's cores shared out
//               among the jobs training on it): the fastest for larger networks on a CPU
//   tensor-ops  (engines/tensor-ops-step.ts) the whole step as TF.js ops on the backend's own memory,
//               with one host read per step (the loss): for backends that keep tensors off the host
//               (tensorflow through tfjs-node or tfjs-node-gpu, webgl, webgpu)
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { Packed } from './data.js';
import { createNetwork, disposeNetwork, type Network } from './network.js';
import { createOptimizer, type Optimizer } from './optimizer.js';
import { resolveSpec, resolveTraining } from './spec.js';
import { createLoopStep } from './engines/loop-step.js';
import { joinCoreShare } from './engines/core-share.js';
import { createOnnxStep, type ThreadCount } from './engines/onnx-step.js';
import { loadSyncRuntime, type SyncRuntime } from './engines/ort-session.js';
import { createTensorOpsStep } from './engines/tensor-ops-step.js';
import { trainMultiplyAdds } from './engines/layout.js';

export interface StepResult {
  /** the batch's mean loss */
  loss: number;
  /** correct predictions in the batch (classification) */
  correct: number;
}

export type TrainEngineName = 'loops' | 'onnx' | 'tensor-ops';
/** TRAIN_ENGINE's values (the config schema lists the same). */
export type TrainEngineChoice = 'auto' | TrainEngineName;

export interface TrainStep {
  /** the engine that runs this step */
  readonly engine: TrainEngineName;
  /** One optimisation step on rows `idx` of `p`. */
  run(p: Packed, idx: ArrayLike<number>): StepResult;
  /**
   * The forward and backward pass of run() without the update (the BN moving averages still move):
   * copies of the gradients, in `net.trainable` order. For checking the backward pass.
   */
  gradients(p: Packed, idx: ArrayLike<number>): StepResult & { grads: Float32Array[] };
  /** Writes the trained values (and the optimizer's slots) where the trainer reads them: the network's variables and `opt`. */
  sync(): void;
  dispose(): void;
}

export interface TrainEngineSettings {
  engine: TrainEngineChoice;
  /**
   * threads of one job's products (the onnx engine's intra-op threads): a number, or 'share' for the
   * machine's cores divided by the jobs training on it at the moment (engines/core-share.ts)
   */
  threads: number | 'share';
}

/**
 * From this many multiply-adds per row of the forward pass, the onnx step trains; below it the loop step
 * does. Small networks gain little per step from onnxruntime (its call and the graph's nodes cost tens of
 * microseconds whatever the size) while a job pays a few milliseconds per batch size to build its
 * sessions, and the process about a tenth of a second to load onnxruntime and check it; so the small
 * networks (2-3-2-1, 2-128-1, 2-32-32-1) keep the loop step.
 */
export const ONNX_TRAIN_MIN_MULTIPLY_ADDS = 2_000;

/** Backends whose tensors do not live in host memory: the loop and onnx steps would copy every activation. */
const DEVICE_BACKENDS = new Set(['tensorflow', 'webgl', 'webgpu']);

let settings: TrainEngineSettings = { engine: 'auto', threads: 1 };
const warned = new Set<string>();

/** Sets the engine and threads of the steps created from now on in this process (TRAIN_ENGINE, TRAIN_THREADS). */
export function configureTrainEngine(next: Partial<TrainEngineSettings>): void {
  const t = next.threads;
  if (t !== undefined && t !== 'share' && !(Number.isInteger(t) && t >= 1)) {
    throw new RangeError(`threads must be 'share' or a whole number >= 1, got ${t}`);
  }
  settings = { ...settings, ...next };
}

/** The engine `auto` picks for this network on the active backend, and why. */
export function autoEngine(net: Network): { engine: TrainEngineName; reason: string } {
  const backend = tf.getBackend();
  if (DEVICE_BACKENDS.has(backend)) return { engine: 'tensor-ops', reason: `the ${backend} backend keeps tensors off the host` };
  const macs = trainMultiplyAdds(net);
  if (macs < ONNX_TRAIN_MIN_MULTIPLY_ADDS) return { engine: 'loops', reason: `${macs} multiply-adds per row, below ${ONNX_TRAIN_MIN_MULTIPLY_ADDS}` };
  const ort = onnxRuntime();
  if (ort instanceof Error) return { engine: 'loops', reason: `onnxruntime-node cannot be used (${ort.message})` };
  return { engine: 'onnx', reason: `${macs} multiply-adds per row` };
}

let checked: SyncRuntime | Error | undefined;

/**
 * onnxruntime-node, loaded and seen to train once per process (one step of a 2-2-1 network): a runtime
 * that loads but cannot run the step's graph is found here, not on the first large job.
 */
function onnxRuntime(): SyncRuntime | Error {
  if (checked) return checked;
  const ort = loadSyncRuntime();
  if (ort instanceof Error) return (checked = ort);
  const spec = resolveSpec({ hidden: [2], task: 'binary' }, { inputDim: 2, outputDim: 1 }, 1);
  const net = createNetwork(spec);
  try {
    const step = createOnnxStep(net, createOptimizer(resolveTraining({ seed: 1 })), ort, { threads: () => 1 });
    try {
      const { loss } = step.run({ n: 2, d: 2, x: Float32Array.of(0, 1, 1, 0), y: Float32Array.of(0, 1) }, [0, 1]);
      if (!Number.isFinite(loss)) throw new Error(`the self-test step's loss is ${loss}`);
    } finally {
      step.dispose();
    }
    checked = ort;
  } catch (err) {
    checked = new Error(`it fails its self-test: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    disposeNetwork(net);
  }
  return checked;
}

export function createTrainStep(net: Network, opt: Optimizer): TrainStep {
  const choice = settings.engine;
  let engine: TrainEngineName;
  if (choice === 'auto') {
    const auto = autoEngine(net);
    engine = auto.engine;
    // A missing or broken onnxruntime is worth one line per process, not one per job.
    if (/cannot be used/.test(auto.reason) && !warned.has(auto.reason)) {
      warned.add(auto.reason);
      process.emitWarning(`training on the loop engine: ${auto.reason}`, { code: 'BN_TRAIN_ENGINE' });
    }
  } else {
    engine = choice;
  }
  if (engine === 'tensor-ops') return createTensorOpsStep(net, opt);
  if (engine === 'loops') return createLoopStep(net, opt);
  const ort = onnxRuntime();
  if (ort instanceof Error) {
    throw new Error(`TRAIN_ENGINE=onnx but onnxruntime-node cannot be used (${ort.message}); install it or set TRAIN_ENGINE=auto`);
  }
  return createOnnxStep(net, opt, ort, threadCount(settings.threads));
}

function threadCount(threads: TrainEngineSettings['threads']): ThreadCount {
  if (threads !== 'share') return { threads: () => threads };
  try {
    return joinCoreShare();
  } catch (err) {
    const reason = `one thread per job: the jobs' core share cannot be kept in ${os.tmpdir()} (${(err as Error).message})`;
    if (!warned.has(reason)) {
      warned.add(reason);
      process.emitWarning(reason, { code: 'BN_TRAIN_THREADS' });
    }
    return { threads: () => 1 };
  }
}
