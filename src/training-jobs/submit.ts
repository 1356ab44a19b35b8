// Submitting a training job, start to end. Everything a worker would refuse is refused here first, and
// reported together (a 400 whose `errors` names every field at fault): the request against the schema
// with this server's limits, the inline rows, then what only the resolved job can tell (parameters,
// rows left after the validation split, labels against the task). Then the model record is written and a
// reference to the dataset queued.
//
// Idempotency has one mechanism: an Idempotency-Key reserves, in Redis for IDEMPOTENCY_TTL_SECONDS, the
// hash of the body and every id and random choice of the first request. A repeat with the same body
// gets the same job, and a repeat after a crash completes it (every step below is safe to redo with the
// same ids); a repeat with another body is refused (422) naming the key.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { Value } from 'typebox/value';
import { datasetLimits, requestLimits, type Config } from '../config/config.js';
import { createDatasetFromUpload, getDatasetInfo } from '../datasets/dataset-service.js';
import { missingDatasetMessage, newDatasetId } from '../datasets/dataset-service.js';
import { classCount } from '../datasets/stats.js';
import { DatasetError } from '../datasets/errors.js';
import { labelProblem, validateDatasetRows } from '../datasets/validate.js';
import { outputDimFor, parameterCount, randomSeed, resolveSpec, resolveTraining, validateSpec, validateTraining } from '../model/spec.js';
import type { IdempotencyClaim, TrainingQueue } from '../queue/types.js';
import { trainingJobRequestSchema, type JobStatusName, type TrainingJobPayload, type TrainingJobRequest } from '../schemas/job.js';
import { SPEC_LIMITS } from '../schemas/model-spec.js';
import type { ModelRecord, Store } from '../store/store.js';
import { ApiError } from '../api/plugins/app/errors.js';
import { DATASET_ID_PATTERN } from '../api/routes/schemas.js';
import { FieldErrors, IssueList } from '../util/field-error.js';
import { describeSchemaError } from '../util/schema-errors.js';

const DATASET_ID = new RegExp(DATASET_ID_PATTERN);
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
/** Schema errors reported at most (a huge invalid body must not make a huge answer). */
const MAX_ISSUES = 50;

export interface SubmitDeps {
  store: Store;
  queue: TrainingQueue;
  config: Config;
  log: FastifyBaseLogger;
}

export interface SubmitRequest {
  body: unknown;
  /** who is asking (keys are scoped to it, so two clients' keys never meet) */
  principal: string;
  idempotencyKey?: string;
}

export interface Submitted {
  jobId: string;
  modelId: string;
  status: JobStatusName;
}

/** 'job_' / 'mdl_' + 22 url-safe characters (128 random bits). */
function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** JSON with sorted keys: bodies that differ only in key order are the same request. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : val,
  );
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The body's identity: canonical JSON of everything but the rows, then the rows as sent (arrays keep their order). */
function bodyHash(body: TrainingJobRequest): string {
  const { data, ...rest } = body;
  const hash = createHash('sha256').update(canonical(rest));
  if (data) hash.update('\n').update(JSON.stringify(data.features)).update('\n').update(JSON.stringify(data.labels));
  return hash.digest('hex');
}

/** What submission knows of the rows without training: counts, width, classes (max label + 1 when all are integers >= 0). */
interface DataFacts {
  rows: number;
  features: number;
  labels?: readonly number[];
  classes?: number;
}

export function createSubmitter({ store, queue, config, log }: SubmitDeps) {
  const schema = trainingJobRequestSchema(requestLimits(config));
  const { data: _data, ...withoutData } = schema.properties;
  const bodySchema = { ...schema, properties: withoutData };

  /** A schema maximum that is this server's setting says which setting it is. */
  function withLimitName(issue: { field: string; message: string }, keyword: string | undefined): string {
    const setting =
      keyword === 'maximum' && /^model\.hidden\[\d+\]$/.test(issue.field) ? `MAX_UNITS=${config.MAX_UNITS}`
      : keyword === 'maxItems' && issue.field === 'model.hidden' ? `MAX_LAYERS=${config.MAX_LAYERS}`
      : keyword === 'maximum' && issue.field === 'training.epochs' ? `MAX_EPOCHS=${config.MAX_EPOCHS}`
      : keyword === 'maximum' && issue.field === 'training.batchSize' ? `MAX_BATCH_SIZE=${config.MAX_BATCH_SIZE}`
      : undefined;
    return setting ? `${issue.message} (this server's ${setting})` : issue.message;
  }

  /** The request's own problems, together: schema (with this server's limits) and inline rows. */
  function requestIssues(body: unknown, issues: IssueList): body is TrainingJobRequest {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      issues.add('body', 'the request body must be a JSON object {datasetId | data, model, training?}');
      return false;
    }
    const { data, ...rest } = body as Record<string, unknown>;
    for (const error of Value.Errors(bodySchema, rest).slice(0, MAX_ISSUES)) {
      for (const issue of describeSchemaError(error, 'body')) issues.add(issue.field, withLimitName(issue, error.keyword));
    }
    const b = body as Partial<TrainingJobRequest>;
    if ((b.datasetId === undefined) === (data === undefined)) {
      issues.add('datasetId', 'send exactly one of datasetId (an uploaded or builtin:* dataset) and data (inline rows)');
    } else if (typeof b.datasetId === 'string' && !DATASET_ID.test(b.datasetId)) {
      issues.add('datasetId', `datasetId ${JSON.stringify(b.datasetId)} is not a dataset id (ds_... or builtin:...)`);
    }
    if (data !== undefined) {
      const d = data as Record<string, unknown>;
      const extra = typeof d === 'object' && d !== null ? Object.keys(d).filter((k) => k !== 'features' && k !== 'labels') : [];
      for (const k of extra) issues.add(`data.${k}`, `data.${k} is not a known field; remove it (see the schema at /docs)`);
      const problem = datasetProblem(d);
      if (problem) issues.add(`data.${problem.field}`, `data.${problem.message}`);
    }
    return issues.empty;
  }

  async function dataFacts(body: TrainingJobRequest): Promise<DataFacts> {
    if (body.data) {
      const { features, labels } = body.data;
      return { rows: features.length, features: features[0].length, labels, classes: classCount(labels) };
    }
    const info = await getDatasetInfo(store, body.datasetId as string);
    if (!info) throw new ApiError(404, await missingDatasetMessage(body.datasetId as string), 'datasetId');
    return { rows: info.rows, features: info.features, classes: info.classes };
  }

  /** Resolves the job and collects what could not train; throws them together. */
  function resolveJob(body: TrainingJobRequest, facts: DataFacts, seed: number) {
    const issues = new IssueList();
    const prefix = body.data ? 'data' : 'dataset';
    const training = resolveTraining({ ...body.training, seed: body.training?.seed ?? seed });
    const task = body.model.task;
    // Labels against the task: inline labels one by one; a stored dataset's from its facts (its rows are
    // never read here).
    let outputDim = 1;
    const problem = (y: number) =>
      task === 'multiclass'
        ? Number.isInteger(y) && y >= 0
          ? undefined
          : `must be an integer class 0, 1, ..., K-1 for a multiclass task (got ${y})`
        : labelProblem(y, task, 1);
    const badLabel = facts.labels?.findIndex((y) => problem(y) !== undefined) ?? -1;
    if (facts.labels && badLabel >= 0) {
      issues.add(`${prefix}.labels[${badLabel}]`, `${prefix}.labels[${badLabel}] ${problem(facts.labels[badLabel])}`);
    } else if (task === 'multiclass') {
      // A placeholder width on a problem, so that the spec's own checks do not report it a second time.
      outputDim = 2;
      if (facts.classes === undefined || facts.classes < 2) {
        issues.add(`${prefix}.labels`, `${prefix}.labels: a multiclass task needs integer class labels 0..K-1 with K >= 2${facts.classes === 1 ? ' (every label is 0)' : ''}`);
      } else if (facts.classes > SPEC_LIMITS.maxClasses) {
        issues.add(`${prefix}.labels`, `${prefix}.labels: ${facts.classes} classes (the largest label + 1); at most ${SPEC_LIMITS.maxClasses} are supported`);
      } else {
        outputDim = facts.labels ? outputDimFor(task, facts.labels) : facts.classes;
      }
    } else if (task === 'binary' && (facts.classes === undefined || facts.classes > 2)) {
      issues.add(`${prefix}.labels`, `${prefix}.labels: a binary task needs labels 0 and 1 only; use task multiclass for more classes or regression for other numbers`);
    }
    const spec = resolveSpec(body.model, { inputDim: facts.features, outputDim }, training.seed);
    issues.collect(() => validateSpec(spec));
    issues.collect(() => validateTraining(training, spec));
    const params = parameterCount(spec);
    if (params > config.MAX_PARAMETERS) {
      issues.add('model.hidden', `model.hidden: the network has ${params} parameters; this server allows MAX_PARAMETERS=${config.MAX_PARAMETERS}; use fewer or smaller layers`);
    }
    // Rows left for training after the validation split (the last rows are held out, as Keras does).
    const trainRows = Math.floor(facts.rows * (1 - training.validationSplit));
    if (trainRows < 1) {
      issues.add('training.validationSplit', `training.validationSplit: ${training.validationSplit} of ${facts.rows} rows leaves no training rows; lower it (0 for none) or send more rows`);
    } else if (spec.batchNorm.enabled && trainRows < 2) {
      issues.add(
        'training.validationSplit',
        `training.validationSplit: leaves ${trainRows} training row of ${facts.rows}; with batchNorm a batch needs at least 2 rows (one row has no variance): lower it or send more rows`,
      );
    }
    if (training.earlyStopping?.monitor === 'valLoss' && training.validationSplit === 0) {
      issues.add(
        'training.earlyStopping.monitor',
        'training.earlyStopping.monitor: valLoss is measured on validation rows, and training.validationSplit is 0; set a split (e.g. 0.2) or monitor loss',
      );
    }
    issues.throwIfAny();
    return { spec, training };
  }

  /**
   * The parts of an invalid request that are valid on their own: its data reference, a model that passes
   * the schema, and each training option that does (the others take their defaults). Undefined when
   * there is too little to resolve a job from.
   */
  function usableParts(body: unknown): TrainingJobRequest | undefined {
    const b = body as Partial<TrainingJobRequest> | null;
    if (typeof b !== 'object' || b === null || Array.isArray(b)) return undefined;
    const dataOk = (b.datasetId === undefined) !== (b.data === undefined) && (b.data === undefined || datasetProblem(b.data) === undefined);
    if (!dataOk || (b.datasetId !== undefined && (typeof b.datasetId !== 'string' || !DATASET_ID.test(b.datasetId)))) return undefined;
    if (!Value.Check(schema.properties.model, b.model)) return undefined;
    const trainingSchema = schema.properties.training;
    const options = typeof b.training === 'object' && b.training !== null ? (b.training as Record<string, unknown>) : {};
    const training = Object.fromEntries(
      Object.entries(options).filter(([k, v]) => k in trainingSchema.properties && Value.Check(trainingSchema.properties[k as keyof typeof trainingSchema.properties], v)),
    );
    return { ...(b.datasetId !== undefined ? { datasetId: b.datasetId } : { data: b.data }), model: b.model, training } as TrainingJobRequest;
  }

  function datasetProblem(data: unknown): DatasetError | undefined {
    const d = data as Record<string, unknown> | null;
    try {
      validateDatasetRows(d?.features, d?.labels, datasetLimits(config));
      return undefined;
    } catch (err) {
      if (err instanceof DatasetError) return err;
      throw err;
    }
  }

  function semanticIssues(request: TrainingJobRequest, facts: DataFacts): readonly { field: string; message: string }[] {
    try {
      resolveJob(request, facts, 0);
      return [];
    } catch (err) {
      if (err instanceof FieldErrors) return err.issues;
      throw err;
    }
  }

  /** The claim a key holds: ours (a first request), or the first request's; 422 for another body. */
  async function claimFor(key: string, principal: string, bodyHash: string, inline: boolean): Promise<{ claim: IdempotencyClaim; first: boolean }> {
    const proposal: IdempotencyClaim = {
      bodyHash,
      jobId: newId('job'),
      modelId: newId('mdl'),
      ...(inline && { datasetId: newDatasetId() }),
      seed: randomSeed(),
      createdAt: new Date().toISOString(),
    };
    const claim = await queue.reserve(sha256(`${principal}\n${key}`), proposal);
    if (claim.bodyHash !== bodyHash) {
      throw new ApiError(
        422,
        `Idempotency-Key ${JSON.stringify(key)} was used for a different request body (within the last 24 h); ` +
          'send a new key for a new job, or the same body to get the first job again',
        'Idempotency-Key',
      );
    }
    return { claim, first: claim === proposal };
  }

  /** Everything a submission checks before it writes anything; throws FieldErrors or ApiError (404 dataset). */
  async function validated(body: unknown): Promise<{ request: TrainingJobRequest; facts: DataFacts }> {
    const issues = new IssueList();
    if (!requestIssues(body, issues)) {
      // What only the resolved job can tell is reported with the request's own problems, from its valid parts.
      const usable = usableParts(body);
      if (usable) {
        const facts = await dataFacts(usable).catch((err: unknown) => {
          if (err instanceof ApiError) issues.add(err.field ?? 'datasetId', err.message);
          else throw err;
          return undefined;
        });
        if (facts) {
          const known = new Set(issues.issues.map((i) => i.field));
          for (const issue of semanticIssues(usable, facts)) if (!known.has(issue.field)) issues.add(issue.field, issue.message);
        }
      }
      issues.throwIfAny();
    }
    const request = body as TrainingJobRequest;
    const facts = await dataFacts(request);
    // Validated with a provisional seed (it changes no verdict), so that an invalid body reserves no key.
    resolveJob(request, facts, 0);
    return { request, facts };
  }

  async function submit({ body, principal, idempotencyKey: key }: SubmitRequest): Promise<Submitted> {
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new ApiError(400, 'Idempotency-Key must be 1-200 visible ASCII characters', 'Idempotency-Key');
    }
    const { request, facts } = await validated(body);

    let ids: IdempotencyClaim;
    let first = true;
    if (key === undefined) {
      ids = { bodyHash: '', jobId: newId('job'), modelId: newId('mdl'), ...(request.data && { datasetId: newDatasetId() }), seed: randomSeed(), createdAt: new Date().toISOString() };
    } else {
      ({ claim: ids, first } = await claimFor(key, principal, bodyHash(request), request.data !== undefined));
      if (!first) {
        const existing = await queue.getStatus(ids.jobId);
        if (existing) return { jobId: ids.jobId, modelId: ids.modelId, status: existing.status };
        // The first request stopped before queueing (a crash, Redis gone): finish it with its ids.
      }
    }
    const { spec, training } = resolveJob(request, facts, ids.seed);
    // Inline rows are stored only once the whole job is known to be valid: a rejected job leaves nothing.
    const datasetId = request.data
      ? (await createDatasetFromUpload(store, request.data, datasetLimits(config), () => ids.datasetId as string)).id
      : (request.datasetId as string);
    const record: ModelRecord = { modelId: ids.modelId, jobId: ids.jobId, datasetId, spec, training, createdAt: ids.createdAt, updatedAt: ids.createdAt };
    // The record exists before the job does: a worker that starts at once finds it.
    await store.putModel(record);
    const payload: TrainingJobPayload = { modelId: record.modelId, datasetId, spec, training, submittedAt: ids.createdAt };
    try {
      await queue.submit(payload, record.jobId);
    } catch (err) {
      // With a key, a retry completes this job; without one, nothing may stay behind a 503.
      if (key === undefined) await undo(record, request.data !== undefined);
      throw err;
    }
    log.info({ jobId: record.jobId, modelId: record.modelId, repeat: !first }, 'training job accepted');
    return { jobId: record.jobId, modelId: record.modelId, status: 'queued' };
  }

  // validate: the checks alone, for callers that submit several jobs only when all of them are valid.
  return Object.assign(submit, { validate: async (body: unknown): Promise<void> => void (await validated(body)) });

  async function undo(record: ModelRecord, inline: boolean): Promise<void> {
    try {
      await store.deleteModel(record.modelId);
      if (inline) await store.deleteDataset(record.datasetId);
    } catch (err) {
      log.error({ err, modelId: record.modelId }, 'a job that could not be queued left its model record behind');
    }
  }
}

export type Submitter = ReturnType<typeof createSubmitter>;
