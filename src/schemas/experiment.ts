// Experiments: several training jobs that differ in a few settings, run on one dataset with one seed and
// compared side by side. Every variant is a normal training job; the experiment only records which.
import { Type, type Static } from 'typebox';
import { SPEC_LIMITS, modelRequestSchema, trainingOptionsSchema, type RequestLimits } from './model-spec.js';
import { EpochMetrics } from './checkpoint.js';
import { JobProgress, JobStatusName } from './job.js';
import { TestMetrics } from './evaluation.js';

export const EXPERIMENT_TEMPLATES = ['bn-comparisons'] as const;
export type ExperimentTemplate = (typeof EXPERIMENT_TEMPLATES)[number];

const Name = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 ._()+-]+$' });
const DatasetRef = Type.String({ minLength: 1, maxLength: 128, description: 'An uploaded or builtin:* dataset' });

export function experimentRequestSchema(limits: RequestLimits) {
  const model = modelRequestSchema(limits);
  const training = trainingOptionsSchema(limits);
  const Variant = Type.Object(
    {
      name: Name,
      model: Type.Optional(Type.Partial(model, { description: "Merged into the base's model (batchNorm and weightInit field by field)" })),
      training: Type.Optional(Type.Partial(training, { description: "Merged into the base's training options" })),
      dataset: Type.Optional(
        Type.Object(
          { scale: Type.Enum(['unit', 'raw'], { description: 'Image sets: pixels in 0-1 (unit) or 0-255 (raw)' }) },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  );
  const Custom = Type.Object(
    {
      name: Type.Optional(Name),
      datasetId: DatasetRef,
      base: Type.Object({ model, training: Type.Optional(training) }, { additionalProperties: false }),
      variants: Type.Array(Variant, { minItems: 1, maxItems: 16, description: 'Names must differ' }),
    },
    { additionalProperties: false },
  );
  const FromTemplate = Type.Object(
    {
      name: Type.Optional(Name),
      template: Type.Enum(EXPERIMENT_TEMPLATES, {
        description: "bn-comparisons: the four comparisons of BN's effect (convergence, lr 1, weights uniform(-5, 5), raw pixels), each without and with BN",
      }),
      datasetId: DatasetRef,
      base: Type.Optional(
        Type.Object(
          { model: Type.Optional(Type.Partial(model)), training: Type.Optional(Type.Partial(training)) },
          { additionalProperties: false, description: "Overrides merged into every variant (e.g. training.epochs for a shorter run)" },
        ),
      ),
    },
    { additionalProperties: false },
  );
  return Type.Union([Custom, FromTemplate], { description: 'Either base and variants, or a template' });
}
export const ExperimentRequest = experimentRequestSchema(SPEC_LIMITS);
export type ExperimentRequest = Static<typeof ExperimentRequest>;

export const ExperimentStatusName = Type.Enum(['queued', 'running', 'completed', 'failed', 'cancelled'], {
  description: 'running while any variant is queued or running; then failed or cancelled if any variant was, else completed',
});
export type ExperimentStatusName = Static<typeof ExperimentStatusName>;

export const ExperimentVariantRef = Type.Object(
  { name: Type.String(), jobId: Type.String(), modelId: Type.String() },
  { additionalProperties: false },
);

export const ExperimentAccepted = Type.Object(
  { experimentId: Type.String(), name: Type.String(), variants: Type.Array(ExperimentVariantRef) },
  { additionalProperties: false },
);
export type ExperimentAccepted = Static<typeof ExperimentAccepted>;

export const ExperimentVariantStatus = Type.Object(
  {
    ...ExperimentVariantRef.properties,
    datasetId: Type.String({ description: 'The dataset this variant trained on (with its scale)' }),
    status: JobStatusName,
    progress: JobProgress,
    history: Type.Optional(Type.Array(EpochMetrics)),
    testMetrics: Type.Optional(TestMetrics),
    error: Type.Optional(Type.String()),
    durationMs: Type.Optional(Type.Number({ description: 'Wall time from the first epoch to the end, once finished' })),
    /** the variant's own settings: the base with its fields merged in */
    model: Type.Record(Type.String(), Type.Unknown()),
    training: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type ExperimentVariantStatus = Static<typeof ExperimentVariantStatus>;

export const ExperimentStatus = Type.Object(
  {
    experimentId: Type.String(),
    name: Type.String(),
    datasetId: Type.String(),
    template: Type.Optional(Type.Enum(EXPERIMENT_TEMPLATES)),
    status: ExperimentStatusName,
    createdAt: Type.String({ format: 'date-time' }),
    variants: Type.Array(ExperimentVariantStatus),
  },
  { additionalProperties: false },
);
export type ExperimentStatus = Static<typeof ExperimentStatus>;

/** The chart names of GET /v1/experiments/:id/charts/:chart.svg, in the report's order. */
export const EXPERIMENT_CHARTS = ['loss', 'val-accuracy', 'drift', 'bn-gamma', 'bn-moving-variance'] as const;
export type ExperimentChart = (typeof EXPERIMENT_CHARTS)[number];
