// Frozen inference without any training backend (no @tensorflow/* import anywhere under src/inference).
import type { InferenceEngine } from './types.js';
import { createFoldedEngine } from './folded-engine.js';

export type { BatchNormTrace, Explanation, FrozenModel, InferenceEngine } from './types.js';
export { createDirectEngine } from './direct-engine.js';
export { createFoldedEngine } from './folded-engine.js';
export { CheckpointFormatError } from './errors.js';
export { validateCheckpoint } from './validate-checkpoint.js';

/**
 * The default engine: folded. Its BN costs nothing at prediction time and its median latency is never
 * worse; loading takes longer and it keeps a direct copy of the weights for explain()
 * (bench/inference-bench.ts, 2-core VM, Node 20, median one-point latency / batch-of-100 rows/s):
 *   784-256-128-64-10: direct 168 us / 5,830 rows/s, folded 166 us / 5,880 rows/s (the dense layers dominate)
 *   2-128-1:           direct 1.74 us / 606k rows/s, folded 1.23 us / 871k rows/s
 * (reference on the same machine: plain-JS folded 280 us, tfjs-wasm 268 us, onnxruntime 21 us).
 */
export function createInferenceEngine(): InferenceEngine {
  return createFoldedEngine();
}
