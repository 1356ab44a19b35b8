// Engine over onnxruntime-node (its CPU binary ships inside the npm package): the checkpoint is converted
// in memory to a folded ONNX graph (each BN folded into the Gemm before it, as the folded engine does)
// that the runtime runs on its own SIMD kernels, which beat our TypeScript loops on larger models
// (bench/RESULTS.md has the figures). Float32, as training was; within 1e-5 of the float64 reference
// (test/inference-onnx.test.ts).
import type * as Ort from 'onnxruntime-node';
import type { Checkpoint } from '../../checkpoint/checkpoint.js';
import type { Explanation, FrozenModel, InferenceEngine } from '../types.js';
import { validateCheckpoint } from '../validate-checkpoint.js';
import { compileDirect } from '../compile-plan.js';
import { createExplainer } from '../frozen-model.js';
import { loadRow } from '../run-plan.js';
import { checkpointToOnnx, ONNX_INPUT, ONNX_OUTPUT } from './checkpoint-to-onnx.js';
import { disableOrtTelemetryByDefault } from './telemetry.js';

export type OnnxRuntime = typeof Ort;

/**
 * onnxruntime-node is an optional dependency: the module, or why it cannot be used on this machine.
 * Telemetry is off unless asked for (telemetry.ts).
 */
export async function loadOnnxRuntime(): Promise<OnnxRuntime | Error> {
  disableOrtTelemetryByDefault();
  try {
    const ort = (await import('onnxruntime-node')) as OnnxRuntime & { default?: OnnxRuntime };
    return ort.InferenceSession ? ort : (ort.default as OnnxRuntime);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

// One thread per run: the API serves many requests at once on few cores, and at these sizes a second
// thread saved little while competing with the event loop and the workers.
const SESSION_OPTIONS: Ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

export function createOnnxEngine(ort: OnnxRuntime): InferenceEngine {
  return {
    name: 'onnx',
    async load(doc: Checkpoint): Promise<FrozenModel> {
      const { inputDim, outputDim } = validateCheckpoint(doc);
      const session = await ort.InferenceSession.create(checkpointToOnnx(doc, { fold: true }), SESSION_OPTIONS);
      const trace = createExplainer(compileDirect(doc.layers, inputDim));

      // A fresh input buffer per call: runs are asynchronous, so several may be in flight at once.
      const run = async (input: Float32Array, rows: number): Promise<Float32Array> => {
        const result = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', input, [rows, inputDim]) });
        return result[ONNX_OUTPUT].data as Float32Array;
      };
      const predictOne = async (x: readonly number[]): Promise<number[]> => {
        const input = new Float32Array(inputDim);
        loadRow(x, input, inputDim, 'x');
        return Array.from(await run(input, 1));
      };

      return Object.freeze({
        engine: 'onnx',
        modelId: doc.modelId,
        epoch: doc.epoch,
        inputDim,
        outputDim,
        predictOne,
        // One run for all rows: Gemm computes each output row from its input row alone, and BN in inference
        // mode has no batch statistics, so a row's answer does not depend on its neighbours.
        predict: async (rows: readonly (readonly number[])[]): Promise<number[][]> => {
          if (!Array.isArray(rows)) throw new RangeError('rows: must be an array of rows');
          if (rows.length === 0) return [];
          const input = new Float32Array(rows.length * inputDim);
          for (let r = 0; r < rows.length; r++) loadRow(rows[r], input.subarray(r * inputDim, (r + 1) * inputDim), inputDim, `rows[${r}]`);
          const y = await run(input, rows.length);
          return rows.map((_, r) => Array.from(y.subarray(r * outputDim, (r + 1) * outputDim)));
        },
        explain: async (x: readonly number[]): Promise<Explanation> => ({ y: await predictOne(x), batchNorm: trace(x).batchNorm }),
      });
    },
  };
}
