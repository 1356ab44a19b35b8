// Frozen inference without any training backend (no @tensorflow/* import anywhere under src/inference).
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { InferenceEngine } from './types.js';
import { createDirectEngine } from './direct-engine.js';
import { createFoldedEngine } from './folded-engine.js';
import { createOnnxEngine, loadOnnxRuntime, type OnnxRuntime } from './onnx/onnx-engine.js';
import { checkEngine } from './probe.js';

export type { BatchNormTrace, Explanation, FrozenModel, InferenceEngine } from './types.js';
export { createDirectEngine } from './direct-engine.js';
export { createFoldedEngine } from './folded-engine.js';
export { createOnnxEngine, loadOnnxRuntime } from './onnx/onnx-engine.js';
export { checkpointToOnnx } from './onnx/checkpoint-to-onnx.js';
export { CheckpointFormatError } from '../checkpoint/errors.js';
export { validateCheckpoint } from './validate-checkpoint.js';
export { checkEngine } from './probe.js';

/** INFERENCE_ENGINE's values (the config schema lists the same four). */
export type EngineChoice = 'auto' | 'onnx' | 'folded' | 'direct';

/**
 * Below this many multiply-adds per row, our folded TypeScript loops answer before onnxruntime has crossed
 * into native code and back (a fixed cost per run, whatever the size); above it onnxruntime's SIMD Gemms
 * win. Where the two cross was measured one point at a time (bench/RESULTS.md has the suite's figures).
 */
export const ONNX_MIN_MULTIPLY_ADDS = 20_000;

/** Multiply-adds of one row's forward pass: the Dense kernels dominate everything else. */
export function multiplyAdds(checkpoint: Checkpoint): number {
  let sum = 0;
  for (const layer of checkpoint.layers) if (layer.type === 'dense') sum += layer.inputs * layer.units;
  return sum;
}

export interface EngineSelection {
  engine: InferenceEngine;
  /** Why this engine: logged at start-up. */
  note: string;
}

/**
 * auto (default): onnxruntime for models of at least ONNX_MIN_MULTIPLY_ADDS, folded TypeScript for smaller
 * ones and wherever onnxruntime-node cannot load or fails its self-test; onnx insists on onnxruntime;
 * folded and direct never use it. `loadRuntime` is where the module comes from (tests pass a broken one).
 */
export async function createInferenceEngine(
  choice: EngineChoice = 'auto',
  loadRuntime: () => Promise<OnnxRuntime | Error> = loadOnnxRuntime,
): Promise<EngineSelection> {
  if (choice === 'direct') return { engine: createDirectEngine(), note: 'direct: every layer as written, in TypeScript' };
  const folded = createFoldedEngine();
  if (choice === 'folded') return { engine: folded, note: 'folded: BN folded into the Dense before it, in TypeScript' };
  const ort = await loadRuntime();
  if (ort instanceof Error) {
    if (choice === 'onnx') {
      throw new Error(`INFERENCE_ENGINE=onnx but onnxruntime-node cannot be loaded (${ort.message}); install it or set INFERENCE_ENGINE=auto`);
    }
    return { engine: folded, note: `folded for every model: onnxruntime-node cannot be loaded (${ort.message})` };
  }
  const onnx = createOnnxEngine(ort);
  // A runtime that loads but cannot run (a binary built for another libc, say) is found here, not on the
  // first large model a user sends.
  const failure = await checkEngine(onnx).then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  if (failure !== undefined) {
    if (choice === 'onnx') throw new Error(`INFERENCE_ENGINE=onnx but onnxruntime-node fails its self-test (${failure}); set INFERENCE_ENGINE=auto`);
    return { engine: folded, note: `folded for every model: onnxruntime-node fails its self-test (${failure})` };
  }
  if (choice === 'onnx') return { engine: onnx, note: 'onnx: onnxruntime-node for every model' };
  return {
    engine: {
      name: 'auto',
      load: (doc) => (multiplyAdds(doc) >= ONNX_MIN_MULTIPLY_ADDS ? onnx : folded).load(doc),
    },
    note: `auto: onnxruntime-node for models of ${ONNX_MIN_MULTIPLY_ADDS} multiply-adds per row or more, folded TypeScript below`,
  };
}
