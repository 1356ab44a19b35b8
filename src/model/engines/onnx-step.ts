// The onnx step: the forward and backward pass as one onnxruntime call per batch (onnx-step-graph.ts),
// then the BN moving averages and the optimizer on host arrays with the loop step's own functions.
// Between syncs the trained values and their gradients live in the optimizer's arrays (optimizerArrays):
// the graph reads each variable in place and writes each gradient in place, and the optimizer updates
// them in place, so a step copies nothing but the batch.
import type * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';
import { updateMovingStats } from '../batch-norm.js';
import type { Packed } from '../data.js';
import type { Network } from '../network.js';
import { gatherRows } from '../ops.js';
import { optimizerArrays, optimizerStep, type Optimizer } from '../optimizer.js';
import type { StepResult, TrainStep } from '../train-step.js';
import { readVariable, writeVariables } from './host-values.js';
import { denseLayout } from './layout.js';
import { gradName, paramName, stepGraph, VECTORS } from './onnx-step-graph.js';
import type { SyncRuntime, SyncSession } from './ort-session.js';

interface Batch {
  x: Float32Array;
  t: Float32Array;
  feeds: Record<string, Ort.Tensor>;
  session: SyncSession;
}

/** How many intra-op threads the step's sessions get: asked before every step (a CoreShare, or a fixed count). */
export interface ThreadCount {
  threads(): number;
  release?(): void;
}

export function createOnnxStep(net: Network, opt: Optimizer, ort: SyncRuntime, threadCount: ThreadCount): TrainStep {
  const { spec } = net;
  const { batchNorm, task, inputDim: d, outputDim: K } = spec;
  const layers = denseLayout(net);
  const shapes = net.trainable.map((v) => [...v.shape]);
  const sizes = net.trainable.map((v) => v.size);
  const graph = (m: number) => stepGraph(spec, layers, shapes, m);
  const tensor = (values: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', values, dims);
  // the kernels' gradients in the optimizer's arrays; the vectors' gradients, the BN batch statistics, the
  // loss and the correct count are views of the graph's one other output
  const { vectors: at } = graph(1);
  const vectors = new Float32Array(at.length);
  const view = (offset: number, n: number) => vectors.subarray(offset, offset + n);
  const { params, grads } = optimizerArrays(opt, sizes);
  for (const [q, offset] of at.grads) grads[q] = view(offset, sizes[q]);
  net.trainable.forEach((v, q) => params[q].set(readVariable(v)));
  const fetches: Record<string, Ort.Tensor> = { [VECTORS]: tensor(vectors, [1, at.length]) };
  layers.forEach(({ kernel }) => (fetches[gradName(kernel)] = tensor(grads[kernel], shapes[kernel])));
  const paramFeeds = Object.fromEntries(params.map((p, q) => [paramName(q), tensor(p, shapes[q])]));
  // each BN layer's moving statistics, host copies between syncs
  const bn = layers.flatMap(({ units, bn: variables }) => (variables ? [{ units, variables }] : [])).map(({ units, variables }, i) => ({
    variables,
    movingMean: readVariable(variables.movingMean),
    movingVariance: readVariable(variables.movingVariance),
    mean: view(at.mean[i], units),
    variance: view(at.variance[i], units),
  }));
  /** every variable and the array that holds its values between syncs */
  const held: [tf.Variable, Float32Array][] = [
    ...net.trainable.map((v, q): [tf.Variable, Float32Array] => [v, params[q]]),
    ...bn.flatMap((s): [tf.Variable, Float32Array][] => [
      [s.variables.movingMean, s.movingMean],
      [s.variables.movingVariance, s.movingVariance],
    ]),
  ];

  // one session per batch size (in practice two: the batch size and the last batch's), all with the
  // same threads; a new thread count replaces them
  const batches = new Map<number, Batch>();
  let threads = 0;
  const batch = (m: number): Batch => {
    const want = threadCount.threads();
    if (want !== threads) {
      for (const b of batches.values()) b.session.dispose();
      batches.clear();
      threads = want;
    }
    let b = batches.get(m);
    if (!b) {
      const x = new Float32Array(m * d);
      const t = new Float32Array(m * K);
      const feeds = { ...paramFeeds, x: tensor(x, [m, d]), t: tensor(t, [m, K]), scale: tensor(Float32Array.of(1 / m), []) };
      b = { x, t, feeds, session: ort.createSession(graph(m).model, threads) };
      batches.set(m, b);
    }
    return b;
  };

  function pass(p: Packed, idx: ArrayLike<number>): StepResult {
    const m = idx.length;
    const b = batch(m);
    gatherRows(p.x, d, idx, b.x);
    if (task === 'multiclass') {
      b.t.fill(0);
      for (let i = 0; i < m; i++) b.t[i * K + p.y[idx[i]]] = 1;
    } else {
      for (let i = 0; i < m; i++) b.t[i] = p.y[idx[i]];
    }
    b.session.run(b.feeds, fetches);
    for (const s of bn) updateMovingStats(s.movingMean, s.movingVariance, s, m, batchNorm.momentum, batchNorm.varianceEstimator);
    return { loss: vectors[at.loss], correct: at.correct === undefined ? 0 : vectors[at.correct] };
  }

  return {
    engine: 'onnx',
    run(p, idx) {
      const result = pass(p, idx);
      const apply = optimizerStep(opt, sizes);
      params.forEach((w, q) => apply(q, w, grads[q], w));
      return result;
    },
    gradients(p, idx) {
      return { ...pass(p, idx), grads: grads.map((g) => g.slice()) };
    },
    sync() {
      writeVariables(held);
    },
    dispose() {
      for (const b of batches.values()) b.session.dispose();
      batches.clear();
      threadCount.release?.();
    },
  };
}
