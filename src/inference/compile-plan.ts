// Turns the (validated) layer list into a Plan. Two flavours:
// - direct: every layer as written, BN from the frozen moving statistics;
// - folded: a BN that directly follows a Dense is folded into it (W' = W * s per output column,
//   b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps)); any other BN becomes one affine step.
import type { BatchNormTensors, DenseTensors, TensorLayer } from '../checkpoint/checkpoint.js';
import { planShape, type Plan, type Step } from './plan.js';

/** Row-major [inputs][units] -> [units][inputs], each output column optionally multiplied by scale[j]. */
function transposeKernel(layer: DenseTensors, scale?: Float64Array): Float64Array {
  const { inputs: n, units: m, kernel } = layer;
  const w = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const row = i * m;
    for (let j = 0; j < m; j++) w[j * n + i] = scale ? kernel[row + j] * scale[j] : kernel[row + j];
  }
  return w;
}

function biasOf(layer: DenseTensors): Float64Array {
  return layer.bias ? Float64Array.from(layer.bias) : new Float64Array(layer.units);
}

function denseStep(layer: DenseTensors): Step {
  return { kind: 'dense', inDim: layer.inputs, outDim: layer.units, weights: transposeKernel(layer), bias: biasOf(layer) };
}

/** sqrt(var + eps), exactly as the formula writes it. */
function bnDenom(layer: BatchNormTensors): Float64Array {
  return Float64Array.from(layer.movingVariance, (v) => Math.sqrt(v + layer.epsilon));
}

/** s = gamma / sqrt(var + eps) */
function bnScale(layer: BatchNormTensors): Float64Array {
  const denom = bnDenom(layer);
  return Float64Array.from(layer.gamma, (g, j) => g / denom[j]);
}

function activationStep(fn: string): Step[] {
  // linear is the identity: no step at all.
  return fn === 'linear' ? [] : [{ kind: 'activation', fn: fn as 'relu' | 'sigmoid' | 'tanh' | 'softmax' }];
}

export function compileDirect(layers: readonly TensorLayer[], inputDim: number): Plan {
  const steps: Step[] = [];
  for (const layer of layers) {
    if (layer.type === 'dense') steps.push(denseStep(layer));
    else if (layer.type === 'activation') steps.push(...activationStep(layer.fn));
    else {
      steps.push({
        kind: 'batchNorm',
        name: layer.name,
        mean: Float64Array.from(layer.movingMean),
        denom: bnDenom(layer),
        gamma: Float64Array.from(layer.gamma),
        beta: Float64Array.from(layer.beta),
      });
    }
  }
  return planShape(steps, inputDim);
}

export function compileFolded(layers: readonly TensorLayer[], inputDim: number): Plan {
  const steps: Step[] = [];
  for (let k = 0; k < layers.length; k++) {
    const layer = layers[k];
    if (layer.type === 'dense') {
      const next = layers[k + 1];
      if (next?.type !== 'batchNorm') {
        steps.push(denseStep(layer));
        continue;
      }
      const s = bnScale(next);
      const b = biasOf(layer);
      const bias = Float64Array.from(b, (bj, j) => (bj - next.movingMean[j]) * s[j] + next.beta[j]);
      steps.push({ kind: 'dense', inDim: layer.inputs, outDim: layer.units, weights: transposeKernel(layer, s), bias });
      k++; // the BN is consumed
    } else if (layer.type === 'activation') {
      steps.push(...activationStep(layer.fn));
    } else {
      // BN after an activation (or anything but a Dense): r = h * s + (beta - mean * s).
      const s = bnScale(layer);
      steps.push({ kind: 'affine', scale: s, shift: Float64Array.from(layer.beta, (bt, j) => bt - layer.movingMean[j] * s[j]) });
    }
  }
  return planShape(steps, inputDim);
}
