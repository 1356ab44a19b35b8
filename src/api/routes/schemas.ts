// Request/response schemas that only the HTTP layer uses (the shared ones live in src/schemas).
import { Type, type TSchema } from 'typebox';
import { ModelSpec, ResolvedTraining } from '../../schemas/model-spec.js';
import { EpochMetrics } from '../../schemas/checkpoint.js';
import { DatasetInfo } from '../../schemas/dataset.js';
import { JobStatus } from '../../schemas/job.js';
import { TestMetrics } from '../../schemas/evaluation.js';
import { NextCursor } from '../pagination.js';
import { AliasName, CheckpointRefString, CheckpointRefValue } from '../../schemas/checkpoint-ref.js';

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String({ description: 'HTTP status text' }),
    message: Type.String({ description: 'What went wrong and what to do about it (the first field at fault, when there are several)' }),
    field: Type.Optional(Type.String({ description: 'The offending field, e.g. model.hidden[0], x, instances[3]' })),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() }, { additionalProperties: false }), {
        description: 'Every field at fault, the first one being `field` and `message`',
      }),
    ),
  },
  { additionalProperties: false, description: 'Every error has this shape' },
);

const E = (description: string) => ({ ...ErrorResponse, description });

/** Error responses every authenticated route can give. */
export const commonErrors = {
  401: E('Missing or invalid API key (only when the server has API_KEYS)'),
  503: E('Overloaded (Retry-After says when to retry)'),
};

export const errors = {
  400: E('Invalid request; `field` names the offending field'),
  404: E('Not found'),
  409: E('Conflict'),
  422: E('Idempotency-Key reused with a different request body'),
  413: E('Request body larger than BODY_LIMIT_BYTES'),
  415: E('Unsupported Content-Type'),
  429: E('Rate limit exceeded (Retry-After says when to retry)'),
  503: E('Queue (Redis) unavailable or server overloaded; retry after Retry-After seconds'),
};

/** The listed error responses, e.g. pickErrors(400, 404). */
export function pickErrors<K extends keyof typeof errors>(...codes: K[]): Pick<typeof errors, K> {
  return Object.fromEntries(codes.map((c) => [c, errors[c]])) as Pick<typeof errors, K>;
}

/** A response schema with its own description (instead of "Default Response"). */
export function described<T extends object>(schema: T, description: string): T {
  return { ...schema, description };
}

/** Ids that may become a path segment: no dots or slashes, so no traversal. */
export const ID_PATTERN = '^[A-Za-z0-9_-]{1,128}$';
/** Uploaded ids, or built-in ones; the image sets take their scale in the id (builtin:mnist?scale=raw). */
export const DATASET_ID_PATTERN = '^(builtin:[a-z0-9-]{1,64}(\\?scale=(unit|raw))?|[A-Za-z0-9_-]{1,128})$';

export const ModelIdParams = Type.Object({
  modelId: Type.String({ pattern: ID_PATTERN, description: 'mdl_...' }),
});

export const CheckpointParams = Type.Object({
  modelId: Type.String({ pattern: ID_PATTERN, description: 'mdl_...' }),
  epoch: CheckpointRefString('An epoch number (1, 2, ...), `latest`, `best` or an alias'),
});

export const AliasParams = Type.Object({
  modelId: Type.String({ pattern: ID_PATTERN, description: 'mdl_...' }),
  alias: AliasName,
});

export const SetAliasBody = Type.Object(
  {
    checkpoint: CheckpointRefValue(
      'The epoch to point the alias at, or a name (latest, best, another alias) resolved now: the alias keeps that epoch',
    ),
  },
  { additionalProperties: false },
);

export const Alias = Type.Object(
  {
    modelId: Type.String(),
    alias: Type.String(),
    checkpoint: Type.Integer({ minimum: 1, description: 'The epoch it names' }),
    builtIn: Type.Boolean({ description: 'latest and best: they follow training and cannot be set or deleted' }),
  },
  { additionalProperties: false },
);

export const JobIdParams = Type.Object({
  jobId: Type.String({ pattern: ID_PATTERN, description: 'job_...' }),
});

export const CheckpointSummary = Type.Object(
  { epoch: Type.Integer({ minimum: 1 }), createdAt: Type.String({ format: 'date-time' }), metrics: EpochMetrics },
  { additionalProperties: false },
);

export const ModelStatusName = Type.Enum(['queued', 'running', 'completed', 'failed', 'cancelled', 'unknown'], {
  description:
    "The model's training job status as the queue has it. unknown: the queue cannot say now (Redis unreachable: " +
    "see statusNote), or no longer keeps the job (finished jobs are kept 7 days); the model's checkpoints and history stay.",
});

const ModelStatusFields = {
  status: ModelStatusName,
  error: Type.Optional(Type.String({ description: 'Why the job failed (status failed)' })),
  statusNote: Type.Optional(Type.String({ description: 'Why the status is unknown' })),
};

export const ModelSummary = Type.Object(
  {
    modelId: Type.String(),
    jobId: Type.String(),
    datasetId: Type.String(),
    ...ModelStatusFields,
    task: Type.String(),
    inputDim: Type.Integer(),
    outputDim: Type.Integer(),
    hidden: Type.Array(Type.Integer()),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time', description: 'When the model record was written' }),
  },
  { additionalProperties: false },
);

export const ModelList = Type.Object({ models: Type.Array(ModelSummary), nextCursor: NextCursor }, { additionalProperties: false });

export const ModelDetail = Type.Object(
  {
    modelId: Type.String(),
    jobId: Type.String(),
    datasetId: Type.String(),
    ...ModelStatusFields,
    spec: ModelSpec,
    training: ResolvedTraining,
    inputDim: Type.Integer(),
    outputDim: Type.Integer(),
    checkpoints: Type.Array(CheckpointSummary, { description: 'Ascending by epoch: the checkpoints retention kept' }),
    latestEpoch: Type.Union([Type.Integer(), Type.Null()], { description: 'null until the first epoch is saved' }),
    aliases: Type.Record(Type.String(), Type.Integer(), {
      description: 'Name -> epoch: the aliases set with PUT /v1/models/:modelId/aliases/:alias, and the built-in latest and best once a checkpoint exists',
    }),
    testMetrics: Type.Optional(
      Type.Unsafe<TestMetrics>({ ...TestMetrics, description: "Once its job completed on a dataset with a test part: the last checkpoint evaluated on it, with the frozen statistics" }),
    ),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time', description: 'When the model record was written' }),
  },
  { additionalProperties: false },
);

export const ModelHistory = Type.Object(
  {
    modelId: Type.String(),
    epochs: Type.Array(EpochMetrics, { description: 'Every trained epoch, in order, pruned checkpoints included' }),
  },
  { additionalProperties: false },
);

const { history: _history, ...jobSummaryFields } = JobStatus.properties;
export const JobSummary = Type.Object(jobSummaryFields, { additionalProperties: false, description: 'A job without its history' });
export const JobList = Type.Object({ jobs: Type.Array(JobSummary), nextCursor: NextCursor }, { additionalProperties: false });

export const DatasetList = Type.Object({ datasets: Type.Array(DatasetInfo), nextCursor: NextCursor }, { additionalProperties: false });

const Row = (description?: string) => Type.Array(Type.Number(), { minItems: 1, maxItems: 10_000, description });

export const PredictBody = Type.Object(
  {
    x: Type.Optional(Row('One point: inputDim numbers')),
    instances: Type.Optional(Type.Array(Row(), { minItems: 1, description: 'Several points (TF Serving convention)' })),
  },
  { additionalProperties: false, description: 'Exactly one of x and instances' },
);

export const PredictQuery = Type.Object(
  {
    checkpoint: Type.Optional(CheckpointRefString('Epoch, `latest` (the default), `best` or an alias')),
    explain: Type.Optional(
      Type.Enum(['true', 'false'], { description: 'true: add the per-BN-layer trace (h, hhat, r); only with x' }),
    ),
  },
  { additionalProperties: false },
);

export const BatchNormTrace = Type.Object(
  {
    name: Type.String(),
    h: Type.Array(Type.Number(), { description: 'Input of the BN layer' }),
    hhat: Type.Array(Type.Number(), { description: '(h - movingMean) / sqrt(movingVariance + epsilon)' }),
    r: Type.Array(Type.Number(), { description: 'gamma * hhat + beta' }),
  },
  { additionalProperties: false },
);

export const PredictOneResponse = Type.Object(
  {
    y: Type.Array(Type.Number(), { description: 'Model output: 1 value (binary probability, regression) or K class probabilities' }),
    class: Type.Optional(Type.Integer({ description: 'binary: y[0] >= 0.5; multiclass: argmax' })),
    checkpoint: Type.Integer({ description: 'Epoch of the checkpoint used' }),
    explanation: Type.Optional(
      Type.Object({ y: Type.Array(Type.Number()), batchNorm: Type.Array(BatchNormTrace) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

export const PredictBatchResponse = Type.Object(
  {
    predictions: Type.Array(Type.Array(Type.Number()), { description: 'One output row per instance' }),
    checkpoint: Type.Integer({ description: 'Epoch of the checkpoint used' }),
  },
  { additionalProperties: false },
);

export const Check = Type.Object(
  { ok: Type.Boolean(), message: Type.Optional(Type.String()), latencyMs: Type.Number() },
  { additionalProperties: false },
);

export const ReadyResponse = Type.Object(
  {
    status: Type.Enum(['ready', 'not-ready']),
    checks: Type.Object({ redis: Check, store: Check, inference: Check }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

/** A documented non-JSON body (SSE, binary artifacts). */
export function content(type: string, schema: TSchema, description: string) {
  return { description, content: { [type]: { schema } } };
}

/** The responses of a Server-Sent Events route (the job's and the experiment's streams). */
export function sseResponses() {
  return {
    200: content('text/event-stream', Type.String(), 'event: <type>\\ndata: <JSON>\\n\\n ...'),
    406: described(errors[400], 'The client refused text/event-stream'),
    ...commonErrors,
    ...pickErrors(400, 404, 503),
  };
}
