// Executes a Plan on one row. Scratch buffers belong to the caller (one pair per loaded model), so a
// prediction allocates only its result; JS is single-threaded, so sharing them across calls is safe.
import type { BatchNormTrace } from './types.js';
import type { Plan } from './plan.js';
import { denseForward, relu, sigmoid, softmax, tanh } from './kernels.js';

export interface Scratch {
  a: Float64Array;
  b: Float64Array;
}

export function createScratch(plan: Plan): Scratch {
  return { a: new Float64Array(plan.maxWidth), b: new Float64Array(plan.maxWidth) };
}

/** Copies a user row into `dst`, refusing wrong lengths and non-numbers (NaN would silently spread). */
export function loadRow(row: readonly number[], dst: Float64Array | Float32Array, inputDim: number, label: string): void {
  if (!row || row.length !== inputDim) {
    throw new RangeError(`${label}: expected ${inputDim} features, got ${row ? row.length : String(row)}`);
  }
  for (let i = 0; i < inputDim; i++) {
    const v = row[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${label}[${i}]: must be a finite number, got ${String(v)}`);
    dst[i] = v;
  }
}

/**
 * Runs the plan on scratch.a (already holding the input); returns the buffer that holds the output.
 * With `trace`, BN steps record h, hhat and r (direct plans only have BN steps).
 */
export function runPlan(plan: Plan, scratch: Scratch, trace?: BatchNormTrace[]): Float64Array {
  let cur = scratch.a;
  let other = scratch.b;
  let width = plan.inputDim;
  for (const step of plan.steps) {
    switch (step.kind) {
      case 'dense': {
        denseForward(step.weights, step.bias, cur, other, step.inDim, step.outDim);
        const t = cur;
        cur = other;
        other = t;
        width = step.outDim;
        break;
      }
      case 'batchNorm': {
        const { mean, denom, gamma, beta } = step;
        if (!trace) {
          for (let j = 0; j < width; j++) cur[j] = gamma[j] * ((cur[j] - mean[j]) / denom[j]) + beta[j];
          break;
        }
        const h = Array.from(cur.subarray(0, width));
        const hhat = h.map((hj, j) => (hj - mean[j]) / denom[j]);
        for (let j = 0; j < width; j++) cur[j] = gamma[j] * hhat[j] + beta[j];
        trace.push({ name: step.name, h, hhat, r: Array.from(cur.subarray(0, width)) });
        break;
      }
      case 'affine': {
        const { scale, shift } = step;
        for (let j = 0; j < width; j++) cur[j] = cur[j] * scale[j] + shift[j];
        break;
      }
      case 'activation':
        if (step.fn === 'relu') relu(cur, width);
        else if (step.fn === 'sigmoid') sigmoid(cur, width);
        else if (step.fn === 'tanh') tanh(cur, width);
        else softmax(cur, width);
        break;
    }
  }
  return cur;
}
