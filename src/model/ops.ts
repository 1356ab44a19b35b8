// Loops of the training step. The step runs only its matrix products as backend ops and everything
// elementwise here: on wasm each tfjs op costs ~10 us of dispatch plus a pass over memory, and the tf-op
// step issued ~300 of them. Activations and their gradients are kept unit-major ([units, m]: one row of
// m values per unit), so the loops over a unit's batch run over contiguous memory.

/**
 * dst[c * rows + r] = src[r * cols + c]. Walks dst in order (contiguous writes were the faster half)
 * eight columns at a time, so each read of src fetches eight neighbours (~2x faster than one at a time).
 */
export function transposeInto(src: Float32Array, rows: number, cols: number, dst: Float32Array): Float32Array {
  let c = 0;
  for (; c + 8 <= cols; c += 8) {
    const o = c * rows;
    for (let r = 0; r < rows; r++) {
      const s = r * cols + c;
      dst[o + r] = src[s];
      dst[o + rows + r] = src[s + 1];
      dst[o + 2 * rows + r] = src[s + 2];
      dst[o + 3 * rows + r] = src[s + 3];
      dst[o + 4 * rows + r] = src[s + 4];
      dst[o + 5 * rows + r] = src[s + 5];
      dst[o + 6 * rows + r] = src[s + 6];
      dst[o + 7 * rows + r] = src[s + 7];
    }
  }
  for (; c < cols; c++) {
    const o = c * rows;
    for (let r = 0; r < rows; r++) dst[o + r] = src[r * cols + c];
  }
  return dst;
}

/** Rows `idx` of the row-major [*, cols] matrix src, into dst [idx.length, cols]. */
export function gatherRows(src: Float32Array, cols: number, idx: ArrayLike<number>, dst: Float32Array): void {
  for (let i = 0; i < idx.length; i++) dst.set(src.subarray(idx[i] * cols, (idx[i] + 1) * cols), i * cols);
}

/**
 * Sum of a[o], ..., a[o + n - 1] in float64, with four accumulators: one chain of dependent additions
 * was the bottleneck (~1.4x slower).
 */
export function sumRange(a: Float32Array, o: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = o;
  const end = o + n;
  for (; i + 4 <= end; i += 4) {
    s0 += a[i];
    s1 += a[i + 1];
    s2 += a[i + 2];
    s3 += a[i + 3];
  }
  for (; i < end; i++) s0 += a[i];
  return s0 + s1 + s2 + s3;
}

/** out[r] = sum of row r of a [rows, cols]. */
export function rowSums(a: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) out[r] = sumRange(a, r * cols, cols);
}

/** a[r, :] += v[r] for every row of a [rows, cols]. */
export function addToRows(a: Float32Array, rows: number, cols: number, v: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const x = v[r];
    for (let c = 0; c < cols; c++) a[o + c] += x;
  }
}
