// Evaluation of a checkpoint over rows it has not necessarily seen, in inference mode: an engine of
// src/inference runs the frozen moving statistics (never batch statistics), chunk by chunk, so a split
// of any size is evaluated in bounded memory. The loss is training's own function, applied to the
// logits (the network without its output activation), so it is comparable with the job's valLoss.
import { featureRows } from '../datasets/arrays.js';
import { DatasetError } from '../datasets/errors.js';
import { checkLabelsForTask } from '../datasets/validate.js';
import { multiplyAdds } from '../inference/index.js';
import type { InferenceEngine } from '../inference/types.js';
import { lossAndGrad } from '../model/losses.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { DatasetPart } from '../schemas/dataset.js';
import type { EvaluationResult } from '../schemas/evaluation.js';

/** Rows per chunk for an engine that runs on the native thread pool (onnxruntime): the event loop stays free. */
const NATIVE_CHUNK_ROWS = 1024;
/** For engines that compute on the event loop: about this many multiply-adds between two turns of it. */
const LOOP_CHUNK_MULTIPLY_ADDS = 4_000_000;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The same network with the identity as its output activation: predictions are then the logits. */
export function logitsCheckpoint(doc: Checkpoint): Checkpoint {
  const layers = doc.layers.slice();
  const last = layers[layers.length - 1];
  if (last?.type === 'activation') layers[layers.length - 1] = { ...last, fn: 'linear' };
  return { ...doc, layers };
}

export interface EvaluationSource {
  rows: number;
  /** The rows in order, at most `chunkRows` at a time. */
  chunks(chunkRows: number): AsyncIterable<DatasetPart>;
}

/**
 * Loss, and for classification accuracy and the confusion matrix, of `doc` over every row of `source`.
 * Labels the task cannot take throw DatasetError naming `labelsField[i]`.
 */
export async function evaluateCheckpoint(
  doc: Checkpoint,
  engine: InferenceEngine,
  source: EvaluationSource,
  labelsField = 'labels',
): Promise<EvaluationResult> {
  const { task, outputDim } = doc.spec;
  const model = await engine.load(logitsCheckpoint(doc));
  const classes = task === 'multiclass' ? outputDim : task === 'binary' ? 2 : 0;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const chunkRows =
    model.engine === 'onnx' ? NATIVE_CHUNK_ROWS : Math.max(1, Math.min(NATIVE_CHUNK_ROWS, Math.floor(LOOP_CHUNK_MULTIPLY_ADDS / Math.max(1, multiplyAdds(doc)))));
  let rows = 0;
  let lossSum = 0;
  let correct = 0;
  for await (const chunk of source.chunks(chunkRows)) {
    const m = chunk.rows;
    if (m === 0) continue;
    checkLabelsForTask(chunk.y, task, outputDim, labelsField, rows);
    const out = await model.predict(featureRows(chunk));
    const logits = new Float32Array(m * outputDim);
    for (let i = 0; i < m; i++) logits.set(out[i], i * outputDim);
    const result = lossAndGrad(task, logits, chunk.y, m, outputDim);
    lossSum += result.loss * m;
    correct += result.correct;
    if (classes > 0) {
      for (let i = 0; i < m; i++) {
        // The class lossAndGrad counts as correct: logit > 0 (binary), the first largest logit (multiclass).
        let predicted = 0;
        if (task === 'binary') predicted = logits[i] > 0 ? 1 : 0;
        else for (let k = 1; k < outputDim; k++) if (logits[i * outputDim + k] > logits[i * outputDim + predicted]) predicted = k;
        confusion[chunk.y[i]][predicted]++;
      }
    }
    rows += m;
    await yieldToLoop();
  }
  if (rows === 0) throw new DatasetError(labelsField, 'the split has no rows to evaluate');
  return {
    rows,
    loss: lossSum / rows,
    ...(classes > 0 && { accuracy: correct / rows, confusionMatrix: confusion }),
  };
}
