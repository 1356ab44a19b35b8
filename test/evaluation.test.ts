// Evaluation against a hand computation on a small model with known weights: the frozen statistics, the
// loss training uses (from the logits), accuracy and the confusion matrix, on every inference engine,
// whatever the chunking; and against the trainer's own validation loss.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { partFromRows, slicePart } from '../src/datasets/arrays.js';
import { evaluateCheckpoint, logitsCheckpoint, type EvaluationSource } from '../src/evaluation/evaluate.js';
import { createDirectEngine, createFoldedEngine, createOnnxEngine, loadOnnxRuntime } from '../src/inference/index.js';
import type { InferenceEngine } from '../src/inference/types.js';
import { initBackend, resolveSpec, resolveTraining, train } from '../src/model/index.js';
import type { Checkpoint } from '../src/checkpoint/checkpoint.js';
import type { DatasetPart } from '../src/schemas/dataset.js';
import { LABELS, ROWS, knownCheckpoint, metricsByHand } from './helpers/known-model.js';
import { randomMatrix, toPart } from './model-helpers.js';

/** Hands the rows out `size` at a time, whatever the evaluator asks for. */
function source(part: DatasetPart, size: number): EvaluationSource {
  return {
    rows: part.rows,
    async *chunks() {
      for (let from = 0; from < part.rows; from += size) yield slicePart(part, from, Math.min(part.rows, from + size));
    },
  };
}

async function engines(): Promise<InferenceEngine[]> {
  const ort = await loadOnnxRuntime();
  assert.ok(!(ort instanceof Error), `onnxruntime-node loads: ${ort instanceof Error ? ort.message : ''}`);
  return [createDirectEngine(), createFoldedEngine(), createOnnxEngine(ort)];
}

test('loss, accuracy and confusion matrix equal the hand computation, on every engine and chunking', async () => {
  for (const task of ['multiclass', 'binary', 'regression'] as const) {
    const want = metricsByHand(task);
    if (task !== 'regression') assert.ok(want.accuracy! > 0 && want.accuracy! < 1, `${task}: the rows are neither all right nor all wrong`);
    const part = partFromRows(ROWS, LABELS[task]);
    for (const engine of await engines()) {
      for (const size of [1, 3, 100]) {
        const got = await evaluateCheckpoint(knownCheckpoint(task), engine, source(part, size));
        const what = `${task} on ${engine.name}, chunks of ${size}`;
        assert.equal(got.rows, want.rows, what);
        const tol = 1e-6; // the logits are float32, as in training (and onnxruntime computes in float32)
        assert.ok(Math.abs(got.loss - want.loss) <= tol * Math.max(1, want.loss), `${what}: loss ${got.loss} vs ${want.loss}`);
        assert.equal(got.accuracy, want.accuracy, what);
        assert.deepEqual(got.confusionMatrix, want.confusionMatrix, what);
      }
    }
  }
});

test('the output activation is dropped for the logits only; the checkpoint itself is untouched', () => {
  const doc = knownCheckpoint('multiclass');
  const logits = logitsCheckpoint(doc);
  const fn = (d: Checkpoint) => (d.layers.at(-1) as { fn?: string }).fn;
  assert.equal(fn(logits), 'linear');
  assert.equal(fn(doc), 'softmax');
  assert.deepEqual(logits.layers.slice(0, -1), doc.layers.slice(0, -1));
});

test('labels the task cannot take are refused, naming the row of the split', async () => {
  const part = partFromRows(ROWS, [0, 1, 2, 3, 0, 1, 0]);
  await assert.rejects(evaluateCheckpoint(knownCheckpoint('multiclass'), createFoldedEngine(), source(part, 2), 'test.labels'), {
    field: 'test.labels[3]',
    message: /integer class in \[0, 3\)/,
  });
});

test("the loss is training's: evaluating the validation rows gives the job's last valLoss", async () => {
  await initBackend('wasm');
  const data = toPart(randomMatrix(31, 240, 3, (x, i) => (x[0] + 0.5 * x[1] > 0 ? (i % 7 === 0 ? 2 : 1) : 0)));
  const validation = slicePart(data, 200, 240);
  const training = resolveTraining({ epochs: 3, batchSize: 32, seed: 5, validationSplit: 0 });
  const spec = resolveSpec({ hidden: [8, 4], task: 'multiclass' }, { inputDim: 3, outputDim: 3 }, training.seed);
  const res = await train({ modelId: 'eval', spec, training, data: slicePart(data, 0, 200), validation });
  const last = res.history.at(-1)!;
  const got = await evaluateCheckpoint(res.last.checkpoint, createFoldedEngine(), source(validation, 16));
  assert.ok(Math.abs(got.loss - last.valLoss!) < 1e-5 * Math.max(1, last.valLoss!), `${got.loss} vs valLoss ${last.valLoss}`);
  assert.equal(got.accuracy, last.valAccuracy);
});
