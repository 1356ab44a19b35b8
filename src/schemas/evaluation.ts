// Evaluation of a checkpoint on a dataset split: the request and the answer, shared by the evaluation
// module, the route and the OpenAPI document.
import { Type, type Static } from 'typebox';
import { SPLIT_NAMES } from './dataset.js';
import { CheckpointRefValue } from './checkpoint-ref.js';

export const EvaluateRequest = Type.Object(
  {
    datasetId: Type.String({ minLength: 1, maxLength: 128, description: 'An uploaded or builtin:* dataset (builtin:mnist?scale=raw, ...)' }),
    split: Type.Optional(
      Type.Enum(SPLIT_NAMES, { description: "test (default: the dataset's held-out part), train, or all (train then test)" }),
    ),
    checkpoint: Type.Optional(CheckpointRefValue('Epoch of the checkpoint, or latest (the default), best or an alias')),
  },
  { additionalProperties: false },
);
export type EvaluateRequest = Static<typeof EvaluateRequest>;

export const EvaluationResult = Type.Object(
  {
    rows: Type.Integer({ description: 'Rows evaluated' }),
    loss: Type.Number({ description: "Mean loss, as training computes it (binary/categorical cross-entropy from the logits, or squared error)" }),
    accuracy: Type.Optional(Type.Number({ description: 'Classification: share of rows whose predicted class is the label' })),
    confusionMatrix: Type.Optional(
      Type.Array(Type.Array(Type.Integer()), {
        description: 'Classification: confusionMatrix[label][predicted] counts rows (binary: class 1 when the probability is above 0.5)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type EvaluationResult = Static<typeof EvaluationResult>;

export const EvaluateResponse = Type.Object(
  {
    modelId: Type.String(),
    datasetId: Type.String(),
    split: Type.Enum(SPLIT_NAMES),
    checkpoint: Type.Integer({ description: 'Epoch of the checkpoint used' }),
    ...EvaluationResult.properties,
  },
  { additionalProperties: false, description: 'Inference mode: every BN layer used its frozen moving statistics' },
);
export type EvaluateResponse = Static<typeof EvaluateResponse>;

/** The test metrics a job records at its end, on its dataset's test part (job result, job status, model record). */
export const TestMetrics = Type.Object(
  {
    checkpoint: Type.Integer({ description: 'Epoch of the checkpoint evaluated: the last one the job trained' }),
    ...EvaluationResult.properties,
  },
  { additionalProperties: false, description: "Evaluated on the dataset's test part with the frozen statistics, once, when the job ends" },
);
export type TestMetrics = Static<typeof TestMetrics>;
