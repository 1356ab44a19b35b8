// A synchronous onnxruntime session for the training step. TrainStep.run is synchronous (the trainer
// checks every batch's loss before the next one), and onnxruntime-node's public InferenceSession.run only
// defers the native binding's synchronous run to setImmediate; so the step uses that binding
// (onnxruntime-node/dist/binding.js, the module the public API wraps), checked here when it loads.
// Outputs are written into arrays the caller owns (pre-allocated outputs), inputs are read in place.
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import { disableOrtTelemetryByDefault } from '../../inference/onnx/telemetry.js';

type Feeds = Record<string, Ort.Tensor>;

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: Ort.InferenceSession.SessionOptions): void;
  run(feeds: Feeds, fetches: Record<string, Ort.Tensor>, options: Ort.InferenceSession.RunOptions): Record<string, Ort.Tensor>;
  dispose(): void;
}

interface NativeBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

export interface SyncRuntime {
  Tensor: typeof Ort.Tensor;
  /** A session over the model bytes with `threads` intra-op threads. */
  createSession(model: Uint8Array, threads: number): SyncSession;
}

export interface SyncSession {
  /** Runs the graph; every output goes into the tensor of the same name in `outputs`. */
  run(inputs: Feeds, outputs: Record<string, Ort.Tensor>): void;
  dispose(): void;
}

let loaded: SyncRuntime | Error | undefined;

/** onnxruntime-node's synchronous runtime, or why it cannot be used here; loaded once per process. */
export function loadSyncRuntime(): SyncRuntime | Error {
  loaded ??= load();
  return loaded;
}

function load(): SyncRuntime | Error {
  disableOrtTelemetryByDefault();
  try {
    const require = createRequire(import.meta.url);
    const ort = require('onnxruntime-node') as typeof Ort;
    const native = require('onnxruntime-node/dist/binding.js') as Partial<NativeBinding>;
    const Session = native.binding?.InferenceSession;
    if (typeof Session !== 'function' || typeof native.initOrt !== 'function' || typeof ort.Tensor !== 'function') {
      throw new Error('onnxruntime-node/dist/binding.js does not export the synchronous session this version expects');
    }
    native.initOrt();
    return {
      Tensor: ort.Tensor,
      createSession(model, threads) {
        const session = new Session();
        session.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
        });
        return {
          run: (inputs, outputs) => void session.run(inputs, outputs, {}),
          dispose: () => session.dispose(),
        };
      },
    };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
