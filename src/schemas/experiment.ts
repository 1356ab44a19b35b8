// Experiments: several training jobs that differ in a few settings, run on one dataset with one seed and
// compared side by side. Every variant is a normal training job; the experiment only records which.
import { Type, type Static } from 'typebox';
import { SPEC_LIMITS, modelRequestSchema, trainingOptionsSchema, type RequestLimits } from './model-spec.js';
import { EpochMetrics } from './checkpoint.js';
import { JobProgress, JobStatusName } from './job.js';
import { TestMetrics } from './evaluation.js';
import { BnStatsEpoch } from './bn-stats.js';

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
  description:
    'queued while every variant is queued; running while any variant is queued or running; once all have ended: ' +
    'cancelled if any variant was cancelled, else failed if any failed for another reason than diverging, else ' +
    'completed. A variant that diverged (its loss became NaN or infinite) is a result of the experiment, not a ' +
    'failure of it: its job is failed, its `diverged` says where, and the experiment can still be completed.',
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

export const Diverged = Type.Object(
  {
    epoch: Type.Integer({ description: 'The epoch in which the loss (or validation loss) became NaN or infinite' }),
    lastFiniteEpoch: Type.Integer({ description: 'The last epoch saved with finite values; 0 when it diverged in epoch 1' }),
  },
  { additionalProperties: false, description: 'Present when the variant diverged (its job failed saying so)' },
);
export type Diverged = Static<typeof Diverged>;

export const ExperimentVariantStatus = Type.Object(
  {
    ...ExperimentVariantRef.properties,
    comparison: Type.Optional(Type.String({ description: "Templates: the comparison this variant belongs to (its pair's other half differs in batchNorm only)" })),
    datasetId: Type.String({ description: 'The dataset this variant trained on (with its scale)' }),
    status: JobStatusName,
    progress: JobProgress,
    history: Type.Optional(Type.Array(EpochMetrics)),
    testMetrics: Type.Optional(TestMetrics),
    testMetricsOf: Type.Optional(
      Type.Enum(['final', 'last-finite-checkpoint'], {
        description: "final: the job's own test metrics, of the last epoch it trained; last-finite-checkpoint: a diverged variant's last finite checkpoint, evaluated on the test part",
      }),
    ),
    diverged: Type.Optional(Diverged),
    error: Type.Optional(Type.String()),
    durationMs: Type.Optional(
      Type.Number({ description: "Training time: the sum of its epochs' durations (time queued behind other variants not counted), once finished" }),
    ),
    finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
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
    seed: Type.Integer({ description: 'The one seed every variant trains with (the base\'s, or chosen at random once and recorded)' }),
    status: ExperimentStatusName,
    createdAt: Type.String({ format: 'date-time' }),
    variants: Type.Array(ExperimentVariantStatus),
  },
  { additionalProperties: false },
);
export type ExperimentStatus = Static<typeof ExperimentStatus>;

export const ExperimentList = Type.Object(
  {
    experiments: Type.Array(ExperimentStatus, { description: 'Newest first, without the variants\' histories' }),
    nextCursor: Type.Optional(Type.String({ description: 'Present when more items follow: pass it as ?cursor=' })),
  },
  { additionalProperties: false },
);

/** What the store keeps of an experiment: written once at creation; statuses are read from the queue. */
export interface ExperimentRecord {
  experimentId: string;
  name: string;
  datasetId: string;
  template?: ExperimentTemplate;
  /** the one seed every variant trains with */
  seed: number;
  createdAt: string;
  variants: {
    name: string;
    comparison?: string;
    jobId: string;
    modelId: string;
    datasetId: string;
    model: Record<string, unknown>;
    training: Record<string, unknown>;
  }[];
}

/** The chart names of GET /v1/experiments/:id/charts/:chart.svg, in the report's order. */
export const EXPERIMENT_CHARTS = ['loss', 'val-accuracy', 'drift', 'bn-gamma', 'bn-moving-variance'] as const;
export type ExperimentChart = (typeof EXPERIMENT_CHARTS)[number];

const Num = Type.Optional(Type.Number());

export const ExperimentReportRow = Type.Object(
  {
    name: Type.String(),
    comparison: Type.Optional(Type.String()),
    batchNorm: Type.Boolean(),
    optimizer: Type.String(),
    learningRate: Type.Number(),
    batchSize: Type.Integer(),
    weightInit: Type.String({ description: 'glorot-uniform, or uniform(min, max)' }),
    hidden: Type.Array(Type.Integer()),
    datasetId: Type.String(),
    status: JobStatusName,
    outcome: Type.String({ description: 'completed, diverged in epoch N, failed: <why>, cancelled, queued, running' }),
    epochsTrained: Type.Integer(),
    final: Type.Optional(
      Type.Object({ loss: Type.Number(), accuracy: Num, valLoss: Num, valAccuracy: Num }, { additionalProperties: false, description: 'The last epoch trained' }),
    ),
    test: Type.Optional(
      Type.Object(
        { accuracy: Num, loss: Type.Number(), checkpoint: Type.Integer(), of: Type.Enum(['final', 'last-finite-checkpoint']) },
        { additionalProperties: false },
      ),
    ),
    original: Type.Optional(Type.Number({ description: "bn-comparisons on MNIST: the Keras original's test accuracy" })),
    durationMs: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);
export type ExperimentReportRow = Static<typeof ExperimentReportRow>;

export const ExperimentReport = Type.Object(
  {
    experiment: ExperimentStatus,
    generatedAt: Type.String({ format: 'date-time' }),
    notes: Type.Array(Type.String(), { description: 'How the figures were obtained: optimizer, test metrics, divergence, durations' }),
    rows: Type.Array(ExperimentReportRow),
    charts: Type.Array(
      Type.Object(
        { name: Type.Enum(EXPERIMENT_CHARTS), title: Type.String(), available: Type.Boolean(), url: Type.String() },
        { additionalProperties: false },
      ),
    ),
    bnStats: Type.Record(Type.String(), Type.Array(BnStatsEpoch), { description: "Each variant's per-epoch BN statistics, by variant name" }),
  },
  { additionalProperties: false, description: "The report's data (GET /v1/experiments/:id/report?format=json)" },
);
export type ExperimentReport = Static<typeof ExperimentReport>;
