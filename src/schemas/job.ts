// Training job shapes: the HTTP request, the BullMQ payload and progress, and the status users read.
import { Type, type Static } from 'typebox';
import { SPEC_LIMITS, modelRequestSchema, trainingOptionsSchema, type ModelSpec, type RequestLimits, type ResolvedTraining } from './model-spec.js';
import { EpochMetrics } from './checkpoint.js';
import { DatasetUpload } from './dataset.js';
import { StoppedEarly } from './training-extras.js';
import { TestMetrics } from './evaluation.js';

/** The request, with this server's limits as the schema's maxima (so the OpenAPI document shows them). */
export function trainingJobRequestSchema(limits: RequestLimits) {
  return Type.Object(
    {
      datasetId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'An uploaded or builtin:* dataset' })),
      data: Type.Optional(
        Type.Object(
          { features: DatasetUpload.properties.features, labels: DatasetUpload.properties.labels },
          { additionalProperties: false, description: 'Inline data, stored as a dataset first' },
        ),
      ),
      model: modelRequestSchema(limits),
      training: Type.Optional(trainingOptionsSchema(limits)),
    },
    { additionalProperties: false, description: 'Exactly one of datasetId and data' },
  );
}
export const TrainingJobRequest = trainingJobRequestSchema(SPEC_LIMITS);
export type TrainingJobRequest = Static<typeof TrainingJobRequest>;

export const JobStatusName = Type.Enum(['queued', 'running', 'completed', 'failed', 'cancelled']);
export type JobStatusName = Static<typeof JobStatusName>;

/** What the API puts on the queue: references only, never the rows themselves. */
export interface TrainingJobPayload {
  modelId: string;
  datasetId: string;
  spec: ModelSpec;
  training: ResolvedTraining;
  submittedAt: string;
}

/**
 * What the processor reports through job.updateProgress: where training is, never the history (that is
 * the model's epoch log). `batches` is known from the first report on; loss and the other metrics are
 * those of the last completed epoch, or of the batches so far within the current one.
 */
export interface TrainingJobProgress {
  /** epochs completed */
  epoch: number;
  epochs: number;
  /** batches done in the current epoch (= batches at an epoch's end) */
  batch: number;
  batches: number;
  loss?: number;
  valLoss?: number;
  accuracy?: number;
  valAccuracy?: number;
  samplesPerSecond?: number;
  lastSavedEpoch: number;
  backend: string;
}

/** What the processor returns (BullMQ keeps it as the completed job's return value). */
export interface TrainingJobResult {
  /** the planned epochs */
  epochs: number;
  backend: string;
  lastSavedEpoch: number;
  /** present when early stopping ended the job before its planned epochs */
  stoppedEarly?: StoppedEarly;
  /** present when the dataset has a test part: the last checkpoint evaluated on it */
  testMetrics?: TestMetrics;
}

export const JobProgress = Type.Object(
  {
    epoch: Type.Integer({ description: 'Epochs completed' }),
    epochs: Type.Integer(),
    batch: Type.Optional(Type.Integer({ description: 'Batches done in the current epoch' })),
    batches: Type.Optional(Type.Integer({ description: 'Batches per epoch (known once the job has started)' })),
    loss: Type.Optional(Type.Number()),
    valLoss: Type.Optional(Type.Number()),
    accuracy: Type.Optional(Type.Number()),
    valAccuracy: Type.Optional(Type.Number()),
    samplesPerSecond: Type.Optional(Type.Number()),
    lastSavedEpoch: Type.Integer(),
  },
  { additionalProperties: false },
);

export const JobStatus = Type.Object(
  {
    jobId: Type.String(),
    modelId: Type.String(),
    status: JobStatusName,
    progress: JobProgress,
    history: Type.Optional(
      Type.Array(EpochMetrics, {
        description: 'Metrics of every trained epoch, in order (absent from `progress` events of the SSE stream)',
      }),
    ),
    error: Type.Optional(Type.String()),
    stoppedEarly: Type.Optional(StoppedEarly),
    testMetrics: Type.Optional(
      Type.Unsafe<TestMetrics>({ ...TestMetrics, description: "Completed jobs whose dataset has a test part: the last checkpoint evaluated on it, with the frozen statistics" }),
    ),
    backend: Type.Optional(Type.String()),
    attempts: Type.Integer({ description: 'Times a worker has started this job' }),
    createdAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type JobStatus = Static<typeof JobStatus>;

export const JobAccepted = Type.Object(
  { jobId: Type.String(), modelId: Type.String(), status: JobStatusName },
  { additionalProperties: false },
);
