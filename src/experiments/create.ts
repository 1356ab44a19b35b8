// Creating an experiment: the request checked against the schema (with this server's limits), every
// variant resolved (base + variant, or template + overrides) and checked as the training job it will be,
// all before anything is queued; then each variant is submitted through the one submission module
// (src/training-jobs/submit.ts), so workers, cancellation, resumes and checkpoints apply as to any job.
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { Value } from 'typebox/value';
import { requestLimits, type Config } from '../config/config.js';
import { randomSeed } from '../model/spec.js';
import type { TrainingQueue } from '../queue/types.js';
import { experimentRequestSchema, type ExperimentAccepted, type ExperimentRecord, type ExperimentTemplate } from '../schemas/experiment.js';
import type { Store } from '../store/store.js';
import type { Submitter } from '../training-jobs/submit.js';
import { FieldErrors, IssueList } from '../util/field-error.js';
import { describeSchemaError } from '../util/schema-errors.js';
import { mergeSettings, scaledDatasetId, type ModelPart, type TrainingPart, type VariantSettings } from './merge.js';
import { TEMPLATE_BASE, bnComparisonVariants } from './template.js';

const MAX_ISSUES = 50;

export interface CreateDeps {
  store: Store;
  queue: TrainingQueue;
  config: Config;
  submit: Submitter;
  log: FastifyBaseLogger;
}

/** A variant resolved to its training job's settings. */
export interface ResolvedVariant {
  name: string;
  comparison?: string;
  datasetId: string;
  model: ModelPart;
  training: TrainingPart;
}

interface CustomBody {
  name?: string;
  datasetId: string;
  base: { model: ModelPart; training?: TrainingPart };
  variants: ({ name: string } & VariantSettings)[];
}
interface TemplateBody {
  name?: string;
  template: ExperimentTemplate;
  datasetId: string;
  base?: { model?: ModelPart; training?: TrainingPart };
}

const newExperimentId = () => `exp_${randomBytes(16).toString('base64url')}`;

/** Prefixes a job's field (training.learningRate) with the variant's place (variants[2].training.learningRate). */
function inVariant(i: number, name: string, issue: { field: string; message: string }) {
  return { field: `variants[${i}].${issue.field}`, message: `variants[${i}] (${name}): ${issue.message}` };
}

/**
 * The variants of a request that passed the schema, merged, with one seed; problems of the experiment
 * itself (duplicate names, a variant's own seed, a scale the dataset does not take) added to `issues`.
 */
export function resolveVariants(body: CustomBody | TemplateBody, seed: number, issues: IssueList): ResolvedVariant[] {
  const raw =
    'template' in body
      ? bnComparisonVariants().map((v) => ({ ...mergeSettings(TEMPLATE_BASE, v, body.base), name: v.name, comparison: v.comparison }))
      : body.variants.map((v) => ({ ...mergeSettings(body.base, v), name: v.name, comparison: undefined as string | undefined }));
  const seen = new Map<string, number>();
  const variants: ResolvedVariant[] = [];
  raw.forEach((v, i) => {
    const first = seen.get(v.name);
    if (first !== undefined) issues.add(`variants[${i}].name`, `variants[${i}].name ${JSON.stringify(v.name)} is also the name of variants[${first}]; variant names must differ`);
    else seen.set(v.name, i);
    if (!('template' in body) && body.variants[i].training?.seed !== undefined) {
      issues.add(`variants[${i}].training.seed`, `variants[${i}].training.seed: every variant trains with the experiment's one seed; set base.training.seed instead`);
    }
    const datasetId = scaledDatasetId(body.datasetId, v.dataset?.scale);
    if (datasetId === undefined) {
      issues.add(
        `variants[${i}].dataset.scale`,
        `variants[${i}].dataset.scale: only the built-in image datasets (builtin:mnist, builtin:fashion-mnist) take a scale; ${body.datasetId} does not`,
      );
    }
    variants.push({
      name: v.name,
      ...(v.comparison !== undefined && { comparison: v.comparison }),
      datasetId: datasetId ?? body.datasetId,
      model: v.model,
      training: { ...v.training, seed },
    });
  });
  return variants;
}

export function createExperimentCreator({ store, queue, config, submit, log }: CreateDeps) {
  const schema = experimentRequestSchema(requestLimits(config));
  const [customSchema, templateSchema] = schema.anyOf;

  /** Schema problems against the branch the body means (a template, or base and variants). */
  function schemaIssues(body: unknown, issues: IssueList): body is CustomBody | TemplateBody {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      issues.add('body', 'the request body must be a JSON object {datasetId, base, variants} or {template, datasetId, base?}');
      return false;
    }
    const branch = 'template' in body ? templateSchema : customSchema;
    for (const error of Value.Errors(branch, body).slice(0, MAX_ISSUES)) {
      for (const issue of describeSchemaError(error, 'body')) issues.add(issue.field, issue.message);
    }
    return issues.empty;
  }

  return async function createExperiment(body: unknown, principal: string): Promise<ExperimentAccepted> {
    const issues = new IssueList();
    if (!schemaIssues(body, issues)) issues.throwIfAny();
    const b = body as CustomBody | TemplateBody;
    const seed = b.base?.training?.seed ?? randomSeed();
    const variants = resolveVariants(b, seed, issues);
    issues.throwIfAny();
    // Every variant as the job it will be, before any is queued: one invalid variant queues none.
    for (const [i, v] of variants.entries()) {
      try {
        await submit.validate({ datasetId: v.datasetId, model: v.model, training: v.training });
      } catch (err) {
        if (!(err instanceof FieldErrors)) throw err;
        for (const issue of err.issues) {
          const own = inVariant(i, v.name, issue);
          issues.add(own.field, own.message);
        }
      }
    }
    issues.throwIfAny();

    const experimentId = newExperimentId();
    const template = 'template' in b ? b.template : undefined;
    const refs: ExperimentRecord['variants'] = [];
    try {
      for (const v of variants) {
        const job = await submit({ body: { datasetId: v.datasetId, model: v.model, training: v.training }, principal });
        refs.push({ name: v.name, ...(v.comparison !== undefined && { comparison: v.comparison }), jobId: job.jobId, modelId: job.modelId, datasetId: v.datasetId, model: v.model, training: v.training });
      }
    } catch (err) {
      // Half an experiment is none: the variants already queued are cancelled (their models stay).
      log.error({ err, experimentId, queued: refs.length }, 'an experiment could not queue every variant; cancelling those it queued');
      await Promise.all(refs.map((r) => queue.cancel(r.jobId).catch((e: unknown) => log.error({ err: e, jobId: r.jobId }, 'could not cancel a variant of a failed experiment'))));
      throw err;
    }
    const record: ExperimentRecord = {
      experimentId,
      name: b.name ?? `${template ?? 'experiment'} on ${b.datasetId}`,
      datasetId: b.datasetId,
      ...(template && { template }),
      seed,
      createdAt: new Date().toISOString(),
      variants: refs,
    };
    await store.putExperiment(record);
    log.info({ experimentId, variants: refs.length, template }, 'experiment accepted');
    return { experimentId, name: record.name, variants: refs.map(({ name, jobId, modelId }) => ({ name, jobId, modelId })) };
  };
}

export type ExperimentCreator = ReturnType<typeof createExperimentCreator>;
