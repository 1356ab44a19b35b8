// The API's shapes, taken from the server's own TypeBox schemas (types only: nothing of the server is bundled).
import type { Static } from 'typebox';
import type {
  Alias as AliasSchema,
  BatchNormTrace as BatchNormTraceSchema,
  DatasetList as DatasetListSchema,
  JobList as JobListSchema,
  ErrorResponse as ErrorResponseSchema,
  ModelDetail as ModelDetailSchema,
  ModelList as ModelListSchema,
  ModelStatusName as ModelStatusNameSchema,
  PredictOneResponse as PredictOneSchema,
} from '../../../src/api/routes/schemas.js';
import type { JobAccepted as JobAcceptedSchema } from '../../../src/schemas/job.js';

export type { JobStatus, JobStatusName } from '../../../src/schemas/job.js';
export type { EpochMetrics, BatchNormLayer, CheckpointDocument } from '../../../src/schemas/checkpoint.js';
export type { DatasetInfo, DatasetRows } from '../../../src/schemas/dataset.js';
export type { EvaluateResponse, TestMetrics } from '../../../src/schemas/evaluation.js';
export type { ModelRequest, TrainingOptions } from '../../../src/schemas/model-spec.js';

export type ErrorBody = Static<typeof ErrorResponseSchema>;
export type ModelDetail = Static<typeof ModelDetailSchema>;
export type ModelSummary = Static<typeof ModelListSchema>['models'][number];
export type PredictOne = Static<typeof PredictOneSchema>;
export type BatchNormTrace = Static<typeof BatchNormTraceSchema>;
export type JobAccepted = Static<typeof JobAcceptedSchema>;
/** A job's status, or a model's: `unknown` when the queue cannot say (see statusNote). */
export type ModelStatusName = Static<typeof ModelStatusNameSchema>;
export type JobList = Static<typeof JobListSchema>;
export type JobSummary = JobList['jobs'][number];
export type DatasetList = Static<typeof DatasetListSchema>;
export type Alias = Static<typeof AliasSchema>;
