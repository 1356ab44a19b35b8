// Moving values between the training step's loops and the backend without copies where possible.
// On wasm, tensors live in the module's heap, and BackendWasm's public makeOutput / typedArrayFromHeap
// let the loops read and write that memory directly; dataSync() and tf.tensor() would each copy (an
// 800 KB copy took 0.1-0.4 ms here, and a step moved ~4 MB). Other backends go through copies.
//
// Rules the callers keep: a view is valid only until the next tensor allocation (the heap may grow and
// move), so it is taken right before use; a tensor is only ever written before its first use as a
// matMul operand, because XNNPACK caches its packed copy of a matMul's second operand by tensor id.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

function wasmBackend(): BackendWasm | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const b = tf.backend() as Partial<BackendWasm>;
  return typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function' ? (b as BackendWasm) : undefined;
}

/** A float32 tensor's values: on wasm a view of its memory, elsewhere a copy (never to be kept). */
export function read(t: tf.Tensor): Float32Array {
  const wasm = wasmBackend();
  return wasm ? (wasm.typedArrayFromHeap(t) as Float32Array) : Float32Array.from(t.dataSync());
}

/** A new float32 matrix whose values `fill` writes (it may read other tensors but allocate none). */
export function create(shape: [number, number], fill: (values: Float32Array) => void): tf.Tensor2D {
  const wasm = wasmBackend();
  if (!wasm) {
    const values = new Float32Array(shape[0] * shape[1]);
    fill(values);
    return tf.tensor2d(values, shape, 'float32');
  }
  const info = wasm.makeOutput(shape, 'float32');
  fill(wasm.typedArrayFromHeap(info) as Float32Array);
  return tf.engine().makeTensorFromTensorInfo(info, wasm) as tf.Tensor2D;
}

/**
 * Applies `fn` to a tensor's values in place and returns the tensor holding the result: `t` itself on
 * wasm, elsewhere a new tensor (t is disposed). Only for tensors nothing else shares (fresh op outputs).
 */
export function update(t: tf.Tensor2D, fn: (values: Float32Array) => void): tf.Tensor2D {
  if (wasmBackend()) {
    fn(read(t));
    return t;
  }
  const values = read(t);
  fn(values);
  t.dispose();
  return tf.tensor2d(values, t.shape, 'float32');
}
