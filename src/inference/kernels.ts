// The numeric loops. Everything is Float64Array: Float32Array weights were slower here (each load
// converts to double) and would add rounding to folded weights.

/**
 * out[j] = sum_i x[i] * w[j*n + i] + b[j], summed in input order. Eight outputs per pass reuse each x[i]
 * load eight times (faster than one output with partial sums); the order of additions per output is the
 * same as a plain loop, so one row gives the same bits alone or in a batch.
 */
export function denseForward(w: Float64Array, b: Float64Array, x: Float64Array, out: Float64Array, n: number, m: number): void {
  let j = 0;
  for (; j + 7 < m; j += 8) {
    const o0 = j * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    const o4 = o3 + n;
    const o5 = o4 + n;
    const o6 = o5 + n;
    const o7 = o6 + n;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let s5 = 0;
    let s6 = 0;
    let s7 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      s0 += xi * w[o0 + i];
      s1 += xi * w[o1 + i];
      s2 += xi * w[o2 + i];
      s3 += xi * w[o3 + i];
      s4 += xi * w[o4 + i];
      s5 += xi * w[o5 + i];
      s6 += xi * w[o6 + i];
      s7 += xi * w[o7 + i];
    }
    out[j] = s0 + b[j];
    out[j + 1] = s1 + b[j + 1];
    out[j + 2] = s2 + b[j + 2];
    out[j + 3] = s3 + b[j + 3];
    out[j + 4] = s4 + b[j + 4];
    out[j + 5] = s5 + b[j + 5];
    out[j + 6] = s6 + b[j + 6];
    out[j + 7] = s7 + b[j + 7];
  }
  for (; j < m; j++) {
    const o = j * n;
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * w[o + i];
    out[j] = s + b[j];
  }
}

export function relu(v: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) if (v[j] < 0) v[j] = 0;
}

/** Never calls exp on a large positive number: no overflow to Infinity/Infinity. */
export function sigmoid(v: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const z = v[j];
    if (z >= 0) {
      v[j] = 1 / (1 + Math.exp(-z));
    } else {
      const e = Math.exp(z);
      v[j] = e / (1 + e);
    }
  }
}

export function tanh(v: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) v[j] = Math.tanh(v[j]);
}

/** Subtracts the max first so that exp never overflows; the largest term is exp(0) = 1, so sum >= 1. */
export function softmax(v: Float64Array, n: number): void {
  let max = -Infinity;
  for (let j = 0; j < n; j++) if (v[j] > max) max = v[j];
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(v[j] - max);
    v[j] = e;
    sum += e;
  }
  for (let j = 0; j < n; j++) v[j] /= sum;
}
