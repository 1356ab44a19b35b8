// The loop step: forward with batch statistics, the hand-written backward pass, the optimizer.
// Only the 2 * (layers + 1) - 1 matrix products run as backend ops; everything elementwise runs in
// plain loops over the tensors' memory (ops.ts and tensor-memory.ts say why). It runs on every backend
// and is the reference the other engines are tested against.
//
// The products are arranged around two facts of XNNPACK on wasm. tf.matMul's transpose flags fall back
// to a naive loop several times slower, so every operand is handed over already laid out
// for a plain product. And a product first packs its SECOND operand into XNNPACK's layout (~3.7 ns a
// value, cached per tensor id), which for a kernel that changes every step cost more than the product
// itself at batch 32 (784x256: 0.74 ms). So kernels only ever come first and only batch-sized arrays
// get packed, with activations and their gradients kept unit-major ([units, m]):
//   forward   Z^T  = W^T . A^T     (then bias, BN and activation on Z^T give the next A^T)
//   backward  dW   = A^T . dZ
//             dA^T = W . dZ^T      (then activation and BN backward give the layer below's dZ^T)
// Transposing each new kernel (~1 ns a value) and each dZ^T costs a fraction of the packing it saves.
//
// Between syncs the trained values live here: kernels (and their transposes) in tensors replaced every
// step, the vectors (bias, gamma, beta, moving statistics) in arrays. sync() hands them to the variables.
import * as tf from '@tensorflow/tfjs';
import { activateInPlace, activationBackwardInPlace } from '../activations.js';
import { bnBackward, bnBatchStats, bnForwardTrain, updateMovingStats, type BnBatchStats } from '../batch-norm.js';
import type { Packed } from '../data.js';
import { lossAndGrad } from '../losses.js';
import type { Network } from '../network.js';
import { addToRows, gatherRows, rowSums, transposeInto } from '../ops.js';
import { optimizerStep, type Optimizer } from '../optimizer.js';
import { create, read, update } from '../tensor-memory.js';
import type { StepResult, TrainStep } from '../train-step.js';
import { readVariable, writeVariables } from './host-values.js';

/** A trainable vector and its gradient. */
interface Vector {
  /** index in net.trainable */
  q: number;
  values: Float32Array;
  grad: Float32Array;
}

interface Dense {
  fanIn: number;
  units: number;
  kernel: tf.Variable;
  /** index of the kernel in net.trainable */
  q: number;
  bias?: Vector;
  bn?: { gamma: Vector; beta: Vector; movingMean: Float32Array; movingVariance: Float32Array };
}

/** Arrays of one step, reused by every step with as many rows; hidden-layer arrays are [units, m]. */
interface Workspace {
  /** the batch's rows, row-major [m, inputDim] (gathering, then transposing, beat a transposing gather 1.7x) */
  x: Float32Array;
  y: Float32Array | Int32Array;
  /** row-major [m, outputDim] */
  logits: Float32Array;
  dLogits: Float32Array;
  hidden: {
    hhat: Float32Array;
    /** the activation's output when BN follows it (it is overwritten by BN's output otherwise) */
    act: Float32Array;
    stats: BnBatchStats;
  }[];
}

interface Pass extends StepResult {
  /** kernel gradients, per dense layer */
  dW: tf.Tensor2D[];
  /** every tensor the pass made */
  tensors: tf.Tensor[];
}

export function createLoopStep(net: Network, opt: Optimizer): TrainStep {
  const { activation, batchNorm, task } = net.spec;
  const bnBefore = batchNorm.placement === 'before-activation';
  const arrays = new Map<tf.Variable, Float32Array>();
  const array = (v: tf.Variable) => {
    const a = readVariable(v);
    arrays.set(v, a);
    return a;
  };
  const vector = (v: tf.Variable): Vector => ({ q: net.trainable.indexOf(v), values: array(v), grad: new Float32Array(v.size) });
  const dense = (kernel: tf.Variable, units: number, bias?: tf.Variable): Dense => ({
    fanIn: kernel.shape[0],
    units,
    kernel,
    q: net.trainable.indexOf(kernel),
    bias: bias && vector(bias),
  });
  const hidden = net.hidden.map((l) => {
    const layer = dense(l.kernel, l.units, l.bias);
    if (l.bn) {
      const { gamma, beta, movingMean, movingVariance } = l.bn;
      layer.bn = { gamma: vector(gamma), beta: vector(beta), movingMean: array(movingMean), movingVariance: array(movingVariance) };
    }
    return layer;
  });
  const layers = [...hidden, dense(net.outKernel, net.spec.outputDim, net.outBias)];
  const vectors = layers.flatMap((l) => [l.bias, l.bn?.gamma, l.bn?.beta].filter((v) => v !== undefined));
  const sizes = net.trainable.map((v) => v.size);

  // W: the optimizer's input and dA^T = W . dZ^T; W^T: the forward products
  const transposeKernels = () => layers.map((l, i) => create([l.units, l.fanIn], (t) => transposeInto(read(kernels[i]), l.fanIn, l.units, t)));
  let kernels = layers.map((l) => tf.clone(l.kernel) as tf.Tensor2D);
  let kernelsT = transposeKernels();

  const workspaces = new Map<number, Workspace>();
  const workspace = (m: number, p: Packed): Workspace => {
    let w = workspaces.get(m);
    if (!w) {
      w = {
        x: new Float32Array(m * p.d),
        y: p.y instanceof Int32Array ? new Int32Array(m) : new Float32Array(m),
        logits: new Float32Array(m * net.spec.outputDim),
        dLogits: new Float32Array(m * net.spec.outputDim),
        hidden: hidden.map((l) => ({
          hhat: new Float32Array(l.bn ? m * l.units : 0),
          act: new Float32Array(l.bn && !bnBefore ? m * l.units : 0),
          stats: bnBatchStats(l.bn ? l.units : 0),
        })),
      };
      workspaces.set(m, w);
    }
    return w;
  };

  function pass(p: Packed, idx: ArrayLike<number>): Pass {
    const m = idx.length;
    const d = p.d;
    const ws = workspace(m, p);
    const y = ws.y;
    for (let i = 0; i < m; i++) y[i] = p.y[idx[i]];
    const tensors: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => {
      tensors.push(t);
      return t;
    };
    try {
      // inputsT[l]: the input of dense layer l, unit-major (the batch's features transposed for l = 0)
      gatherRows(p.x, d, idx, ws.x);
      const inputsT = [keep(create([d, m], (v) => transposeInto(ws.x, m, d, v)))];
      hidden.forEach((l, i) => {
        const k = l.units;
        const w = ws.hidden[i];
        const a = keep(
          update(tf.matMul(kernelsT[i], inputsT[i]), (z) => {
            if (l.bias) addToRows(z, k, m, l.bias.values);
            if (!l.bn) return activateInPlace(activation, z);
            const { gamma, beta } = l.bn;
            if (bnBefore) {
              const relu = activation === 'relu';
              bnForwardTrain(z, k, m, gamma.values, beta.values, batchNorm.epsilon, w.hhat, z, w.stats, relu);
              if (!relu) activateInPlace(activation, z);
            } else {
              activateInPlace(activation, z);
              w.act.set(z);
              bnForwardTrain(z, k, m, gamma.values, beta.values, batchNorm.epsilon, w.hhat, z, w.stats);
            }
            // the moving statistics never feed this pass, so updating them here does not change the gradients
            updateMovingStats(l.bn.movingMean, l.bn.movingVariance, w.stats, m, batchNorm.momentum, batchNorm.varianceEstimator);
          }),
        );
        inputsT.push(a);
      });

      const L = hidden.length;
      const out = layers[L];
      const K = out.units;
      const logitsT = keep(tf.matMul(kernelsT[L], inputsT[L]));
      const z = read(logitsT);
      addToRows(z, K, m, out.bias!.values);
      const { loss, correct } = lossAndGrad(task, transposeInto(z, K, m, ws.logits), y, m, K, ws.dLogits);
      // dl/d(output of dense layer l), from the logits down, in both layouts
      let dZ = keep(create([m, K], (v) => v.set(ws.dLogits)));
      let dZT = keep(create([K, m], (v) => transposeInto(ws.dLogits, m, K, v)));
      const dW: tf.Tensor2D[] = [];
      for (let l = L; l >= 0; l--) {
        const layer = layers[l];
        if (layer.bias) rowSums(read(dZT), layer.units, m, layer.bias.grad);
        dW[l] = keep(tf.matMul(inputsT[l], dZ));
        if (l === 0) break; // the input layer needs no dx
        const below = hidden[l - 1];
        const w = ws.hidden[l - 1];
        const units = below.units;
        dZT = keep(
          update(tf.matMul(kernels[l], dZT), (g) => {
            const bn = below.bn;
            if (!bn) return activationBackwardInPlace(activation, g, read(inputsT[l]));
            if (bnBefore) {
              activationBackwardInPlace(activation, g, read(inputsT[l]));
              bnBackward(g, w.hhat, units, m, w.stats.invStd, bn.gamma.values, g, bn.gamma.grad, bn.beta.grad);
            } else {
              bnBackward(g, w.hhat, units, m, w.stats.invStd, bn.gamma.values, g, bn.gamma.grad, bn.beta.grad);
              activationBackwardInPlace(activation, g, w.act);
            }
          }),
        );
        dZ = keep(create([m, units], (v) => transposeInto(read(dZT), units, m, v)));
      }
      return { loss, correct, dW, tensors };
    } catch (err) {
      tf.dispose(tensors);
      throw err;
    }
  }

  return {
    engine: 'loops',
    run(p, idx) {
      const { loss, correct, dW, tensors } = pass(p, idx);
      try {
        const apply = optimizerStep(opt, sizes);
        const next = layers.map((l, i) => create([l.fanIn, l.units], (w) => apply(l.q, read(kernels[i]), read(dW[i]), w)));
        for (const v of vectors) apply(v.q, v.values, v.grad, v.values);
        tf.dispose([...kernels, ...kernelsT]);
        kernels = next;
        kernelsT = transposeKernels();
      } finally {
        tf.dispose(tensors);
      }
      return { loss, correct };
    },
    gradients(p, idx) {
      const { loss, correct, dW, tensors } = pass(p, idx);
      try {
        const grads: Float32Array[] = [];
        layers.forEach((l, i) => (grads[l.q] = read(dW[i]).slice()));
        for (const v of vectors) grads[v.q] = v.grad.slice();
        return { loss, correct, grads };
      } finally {
        tf.dispose(tensors);
      }
    },
    sync() {
      layers.forEach((l, i) => l.kernel.assign(kernels[i]));
      writeVariables(arrays);
    },
    dispose() {
      tf.dispose([...kernels, ...kernelsT]);
    },
  };
}
