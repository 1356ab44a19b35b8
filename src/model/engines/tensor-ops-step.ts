// The tensor-ops step: the whole step as TF.js ops on the backend's own memory, for backends that keep
// tensors off the host (tensorflow through tfjs-node or tfjs-node-gpu, webgl, webgpu), where the loop
// step would copy every activation to the host and back several times a step. The trained values are
// the network's own variables and the optimizer's slots are variables too, all updated with assign; the
// batch goes up (gathered on the host: an upload, not a read) and one value comes back per step, the
// loss with the correct count beside it. The arithmetic is the loop step's, row-major ([m, units]):
// batch mean and biased variance, the closed-form BN backward (Ioffe & Szegedy 2015, section 3), the
// loss's gradient from the logits, and optimizer.ts's update rules with its slot names (saved through
// the Optimizer at sync, so that states resume across engines).
import * as tf from '@tensorflow/tfjs';
import { ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, adamCorrections } from '../adam-wasm.js';
import type { Packed } from '../data.js';
import type { Network } from '../network.js';
import { gatherRows } from '../ops.js';
import { ensureSlots, MOMENTUM, type Optimizer } from '../optimizer.js';
import type { StepResult, TrainStep } from '../train-step.js';
import { denseLayout } from './layout.js';

interface BnSaved {
  hhat: tf.Tensor2D;
  invStd: tf.Tensor1D;
  gamma: tf.Tensor1D;
}

export function createTensorOpsStep(net: Network, opt: Optimizer): TrainStep {
  const { activation, batchNorm, task, inputDim: d, outputDim: K } = net.spec;
  const bnBefore = batchNorm.placement === 'before-activation';
  const layers = denseLayout(net);
  const L = layers.length - 1;
  const sizes = net.trainable.map((v) => v.size);
  const param = (q: number) => net.trainable[q] as tf.Variable<tf.Rank.R1>;
  const kernel = (q: number) => net.trainable[q] as tf.Variable<tf.Rank.R2>;
  // the optimizer's slots on the backend, from (copies of) the Optimizer's arrays when it has them (a resumed run)
  const slotCount = opt.type === 'adam' ? 2 : opt.type === 'momentum' ? 1 : 0;
  const slots: tf.Variable[][] = Array.from({ length: slotCount }, (_, k) =>
    net.trainable.map((v, q) => tf.tidy(() => tf.variable(opt.slots.length > 0 ? tf.tensor(opt.slots[k][q].slice(), v.shape) : tf.zerosLike(v), false))),
  );

  const act = (z: tf.Tensor2D): tf.Tensor2D =>
    activation === 'relu' ? tf.relu(z) : activation === 'sigmoid' ? tf.sigmoid(z) : activation === 'tanh' ? tf.tanh(z) : z;
  /** dl/dx from dl/dy and y = act(x), through the output (relu: no gradient at 0, as tf.step(0) = 0) */
  const actBackward = (dy: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D =>
    activation === 'relu'
      ? tf.mul(dy, tf.step(y))
      : activation === 'sigmoid'
        ? tf.mul(dy, tf.mul(y, tf.sub(1, y)))
        : activation === 'tanh'
          ? tf.mul(dy, tf.sub(1, tf.square(y)))
          : dy;

  /**
   * Forward, loss and backward of one batch; updates the moving averages and returns the gradients (in
   * net.trainable order) and [loss, correct] as a tensor. Runs inside the caller's tidy.
   */
  function pass(x: tf.Tensor2D, t: tf.Tensor2D, m: number): { grads: tf.Tensor[]; result: tf.Tensor1D } {
    const scale = 1 / m;
    const inputs: tf.Tensor2D[] = [x];
    const saved: { bn?: BnSaved; act?: tf.Tensor2D }[] = [];
    const updates: [tf.Variable, tf.Tensor][] = [];
    const bnForward = (h: tf.Tensor2D, l: (typeof layers)[number]): { r: tf.Tensor2D; s: BnSaved } => {
      const bn = l.bn!;
      const mean = tf.mean(h, 0) as tf.Tensor1D;
      const centred = tf.sub(h, mean);
      const variance = tf.mean(tf.square(centred), 0) as tf.Tensor1D;
      const invStd = tf.rsqrt(tf.add(variance, batchNorm.epsilon)) as tf.Tensor1D;
      const hhat = tf.mul(centred, invStd) as tf.Tensor2D;
      const gamma = param(bn.gamma);
      // the moving statistics never feed this pass, so updating them here does not change the gradients
      const rho = batchNorm.momentum;
      const correction = batchNorm.varianceEstimator === 'unbiased' && m > 1 ? m / (m - 1) : 1;
      updates.push([bn.movingMean, tf.add(tf.mul(bn.movingMean, rho), tf.mul(mean, 1 - rho))]);
      updates.push([bn.movingVariance, tf.add(tf.mul(bn.movingVariance, rho), tf.mul(variance, correction * (1 - rho)))]);
      return { r: tf.add(tf.mul(hhat, gamma), param(bn.beta)) as tf.Tensor2D, s: { hhat, invStd, gamma } };
    };
    for (const l of layers.slice(0, L)) {
      let z = tf.matMul(inputs[inputs.length - 1], kernel(l.kernel)) as tf.Tensor2D;
      if (l.bias !== undefined) z = tf.add(z, param(l.bias)) as tf.Tensor2D;
      if (!l.bn) {
        saved.push({});
        inputs.push(act(z));
      } else if (bnBefore) {
        const { r, s } = bnForward(z, l);
        saved.push({ bn: s });
        inputs.push(act(r));
      } else {
        const a = act(z);
        const { r, s } = bnForward(a, l);
        saved.push({ bn: s, act: a });
        inputs.push(r);
      }
    }
    const out = layers[L];
    const z = tf.add(tf.matMul(inputs[L], kernel(out.kernel)), param(out.bias!)) as tf.Tensor2D;

    let loss: tf.Scalar;
    let correct: tf.Scalar;
    let dz: tf.Tensor2D;
    if (task === 'multiclass') {
      const logp = tf.logSoftmax(z);
      loss = tf.mul(tf.sum(tf.mul(t, logp)), -scale);
      dz = tf.mul(tf.sub(tf.exp(logp), t), scale);
      correct = tf.sum(tf.cast(tf.equal(tf.argMax(z, 1), tf.argMax(t, 1)), 'float32'));
    } else if (task === 'binary') {
      // max(z, 0) - z t + log(1 + exp(-|z|)), d/dz = sigmoid(z) - t
      loss = tf.mul(tf.sum(tf.add(tf.sub(tf.relu(z), tf.mul(z, t)), tf.softplus(tf.neg(tf.abs(z))))), scale);
      dz = tf.mul(tf.sub(tf.sigmoid(z), t), scale);
      correct = tf.sum(tf.cast(tf.equal(tf.cast(tf.greater(z, 0), 'float32'), t), 'float32'));
    } else {
      const diff = tf.sub(z, t);
      loss = tf.mul(tf.sum(tf.square(diff)), scale);
      dz = tf.mul(diff, 2 * scale);
      correct = tf.scalar(0);
    }

    const grads: tf.Tensor[] = [];
    for (let l = L; l >= 0; l--) {
      const layer = layers[l];
      grads[layer.kernel] = tf.matMul(inputs[l], dz, true, false);
      if (layer.bias !== undefined) grads[layer.bias] = tf.sum(dz, 0);
      if (l === 0) break; // the input layer needs no dx
      const da = tf.matMul(dz, kernel(layer.kernel), false, true) as tf.Tensor2D;
      const below = layers[l - 1];
      const s = saved[l - 1];
      const bnBackward = (dy: tf.Tensor2D, b: BnSaved): tf.Tensor2D => {
        const dgamma = tf.sum(tf.mul(dy, b.hhat), 0);
        const dbeta = tf.sum(dy, 0);
        grads[below.bn!.gamma] = dgamma;
        grads[below.bn!.beta] = dbeta;
        const centredDy = tf.sub(dy, tf.mul(dbeta, scale));
        return tf.mul(tf.sub(centredDy, tf.mul(b.hhat, tf.mul(dgamma, scale))), tf.mul(b.gamma, b.invStd)) as tf.Tensor2D;
      };
      if (!s.bn) dz = actBackward(da, inputs[l]);
      else if (bnBefore) dz = bnBackward(actBackward(da, inputs[l]), s.bn);
      else dz = actBackward(bnBackward(da, s.bn), s.act!);
    }
    for (const [v, value] of updates) v.assign(value);
    return { grads, result: tf.stack([loss, correct]) as tf.Tensor1D };
  }

  /** The batch's rows and targets (one-hot classes for multiclass), gathered on the host. */
  function upload(p: Packed, idx: ArrayLike<number>): { x: tf.Tensor2D; t: tf.Tensor2D } {
    const m = idx.length;
    // fresh arrays: some backends keep the array a tensor is made from
    const x = new Float32Array(m * d);
    const t = new Float32Array(m * K);
    gatherRows(p.x, d, idx, x);
    if (task === 'multiclass') for (let i = 0; i < m; i++) t[i * K + p.y[idx[i]]] = 1;
    else for (let i = 0; i < m; i++) t[i] = p.y[idx[i]];
    return { x: tf.tensor2d(x, [m, d]), t: tf.tensor2d(t, [m, K]) };
  }

  function optimize(grads: tf.Tensor[]): void {
    const t = ++opt.iterations;
    const lr = opt.learningRate;
    net.trainable.forEach((w, q) => {
      const g = grads[q];
      if (opt.type === 'sgd') {
        w.assign(tf.sub(w, tf.mul(g, lr)));
      } else if (opt.type === 'momentum') {
        const acc = slots[0][q];
        acc.assign(tf.add(tf.mul(acc, MOMENTUM), g));
        w.assign(tf.sub(w, tf.mul(acc, lr)));
      } else {
        const [m, v] = [slots[0][q], slots[1][q]];
        const { a, c } = adamCorrections(lr, t);
        m.assign(tf.add(tf.mul(m, ADAM_BETA1), tf.mul(g, 1 - ADAM_BETA1)));
        v.assign(tf.add(tf.mul(v, ADAM_BETA2), tf.mul(tf.square(g), 1 - ADAM_BETA2)));
        w.assign(tf.sub(w, tf.div(tf.mul(m, a), tf.add(tf.mul(tf.sqrt(v), c), ADAM_EPSILON))));
      }
    });
  }

  const read = (result: tf.Tensor1D): StepResult => {
    const [loss, correct] = result.dataSync();
    result.dispose();
    return { loss, correct };
  };

  return {
    engine: 'tensor-ops',
    run(p, idx) {
      const result = tf.tidy(() => {
        const { x, t } = upload(p, idx);
        const { grads, result } = pass(x, t, idx.length);
        optimize(grads);
        return result;
      });
      return read(result); // the step's one host read
    },
    gradients(p, idx) {
      const { result, grads } = tf.tidy(() => {
        const { x, t } = upload(p, idx);
        return pass(x, t, idx.length);
      });
      const copies = grads.map((g) => Float32Array.from(g.dataSync()));
      tf.dispose(grads);
      return { ...read(result), grads: copies };
    },
    sync() {
      if (slotCount === 0 || opt.iterations === 0) return;
      ensureSlots(opt, sizes);
      slots.forEach((kind, k) => kind.forEach((s, q) => opt.slots[k][q].set(s.dataSync())));
    },
    dispose() {
      tf.dispose(slots.flat());
    },
  };
}
