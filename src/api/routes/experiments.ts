// Experiments: several training jobs that differ in a few settings, on one dataset with one seed, and
// their comparison (src/experiments does the work; these routes only translate HTTP).
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestLimits } from '../../config/config.js';
import { createExperiments } from '../../experiments/index.js';
import {
  EXPERIMENT_CHARTS,
  ExperimentAccepted,
  ExperimentList,
  ExperimentReport,
  ExperimentStatus,
  experimentRequestSchema,
  type ExperimentRecord,
} from '../../schemas/experiment.js';
import { createSubmitter } from '../../training-jobs/submit.js';
import { PageQuery, page } from '../pagination.js';
import { ApiError } from '../plugins/app/errors.js';
import { rateLimited } from '../plugins/external/rate-limit.js';
import { ID_PATTERN, commonErrors, content, described, pickErrors, sseResponses } from './schemas.js';
import { mapInBatches } from '../../util/map-in-batches.js';

const ExperimentParams = Type.Object({ experimentId: Type.String({ pattern: ID_PATTERN, description: 'exp_...' }) });
const ChartParams = Type.Object({ ...ExperimentParams.properties, chart: Type.Enum(EXPERIMENT_CHARTS) });
const ReportQuery = Type.Object(
  { format: Type.Optional(Type.Enum(['html', 'json'], { description: 'html (default): the page; json: its data' })) },
  { additionalProperties: false },
);
/** The report: inline CSS and SVG only. Nothing else may load or run. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

const position = (r: ExperimentRecord) => ({ createdAt: r.createdAt, id: r.experimentId });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, queue, config, inference } = app;
  const submit = createSubmitter({ store, queue, config, log: app.log });
  const experiments = createExperiments({ store, queue, config, inference, submit, log: app.log });
  // Ends open streams when the server closes; otherwise app.close() waits for every client to leave.
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });

  async function recordOf(experimentId: string): Promise<ExperimentRecord> {
    const record = await experiments.get(experimentId);
    if (!record) throw new ApiError(404, `no experiment ${experimentId}; list experiments with GET /v1/experiments`, 'experimentId');
    return record;
  }

  app.post(
    '/v1/experiments',
    {
      config: rateLimited(config),
      schema: {
        tags: ['experiments'],
        summary: 'Start an experiment: variants of one training job, or a template',
        description:
          'Either `base` and `variants` (each variant is the base with its fields merged in: model and training ' +
          'field by field, model.batchNorm and model.weightInit one level deeper; `dataset.scale` picks unit or raw ' +
          'pixels of a built-in image set), or `template: "bn-comparisons"` with optional `base` overrides merged ' +
          "into every variant. Every variant trains with one seed (base.training.seed, or one chosen at random and " +
          'recorded) as a normal training job. Every variant is checked before any is queued; a field at fault is ' +
          'named as variants[i].training.learningRate. Variant names must differ.',
        body: experimentRequestSchema(requestLimits(config)),
        response: { 202: described(ExperimentAccepted, 'Queued; Location points at the experiment'), ...commonErrors, ...pickErrors(400, 404, 413, 415, 429, 503) },
      },
      // The experiment module validates the body itself, reporting every problem at once.
      validatorCompiler: ({ httpPart }) => (httpPart === 'body' ? (data: unknown) => ({ value: data }) : () => true),
    },
    async (request, reply) => {
      const accepted = await experiments.create(request.body, request.principal ?? 'anonymous');
      return reply.code(202).header('location', `/v1/experiments/${accepted.experimentId}`).send(accepted);
    },
  );

  app.get(
    '/v1/experiments',
    {
      schema: {
        tags: ['experiments'],
        summary: 'List experiments, newest first (paginated)',
        description: "Each with its status and its variants' statuses, without their histories. 503 while Redis is unreachable.",
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: described(ExperimentList, 'Experiments, newest first'), ...commonErrors, ...pickErrors(400, 503) },
      },
    },
    async (request) => {
      const { items, nextCursor } = page(await experiments.list(), request.query, position);
      // Two experiments at a time: each reads up to 16 variants' logs at once.
      const list = await mapInBatches(items, 2, (r) => experiments.status(r, { history: false, evaluate: false }));
      return { experiments: list, ...(nextCursor && { nextCursor }) };
    },
  );

  app.get(
    '/v1/experiments/:experimentId',
    {
      schema: {
        tags: ['experiments'],
        summary: "An experiment: each variant's status (from the queue), history, test metrics and duration",
        params: ExperimentParams,
        response: { 200: described(ExperimentStatus, 'The experiment'), ...commonErrors, ...pickErrors(400, 404, 503) },
      },
    },
    async (request) => experiments.status(await recordOf(request.params.experimentId)),
  );

  app.delete(
    '/v1/experiments/:experimentId',
    {
      schema: {
        tags: ['experiments'],
        summary: 'Delete an experiment: its running and queued variants are cancelled, its record removed',
        description:
          "The variants' models stay, with their checkpoints and histories (a cancelled one keeps what it saved); " +
          'DELETE /v1/models/:modelId removes one. Answers the experiment as it was left.',
        params: ExperimentParams,
        response: { 200: described(ExperimentStatus, 'Deleted; the variants as they were left'), ...commonErrors, ...pickErrors(400, 404, 503) },
      },
    },
    async (request) => experiments.remove(await recordOf(request.params.experimentId)),
  );

  app.get(
    '/v1/experiments/:experimentId/events',
    {
      sse: 'only',
      schema: {
        tags: ['experiments'],
        summary: 'Follow an experiment (Server-Sent Events)',
        description:
          'Events: `status` first (the whole experiment with every history), `epoch` for each epoch any variant ' +
          'completes ({variant, jobId, modelId, metrics}), `variant` when a variant\'s status changes (the variant ' +
          'without history), then exactly one of `completed`, `failed`, `cancelled` (the whole experiment) once ' +
          'every variant has ended, after which the stream ends.',
        params: ExperimentParams,
        response: sseResponses(),
      },
    },
    async (request, reply) => {
      const record = await recordOf(request.params.experimentId);
      let end = () => {};
      const closed = new Promise<void>((resolve) => (end = resolve));
      reply.raw.once('close', end);
      streams.add(end);
      try {
        await reply.sse.send(experiments.events(record, closed));
      } finally {
        streams.delete(end);
      }
    },
  );

  app.get(
    '/v1/experiments/:experimentId/report',
    {
      schema: {
        tags: ['experiments'],
        summary: 'The report: settings, final and test metrics per variant, durations and charts',
        description:
          'A self-contained HTML page (inline CSS and SVG, no script, nothing loaded from the network), or with ' +
          '?format=json the data it shows. The charts are Vega-Lite specifications rendered to SVG on the server.',
        params: ExperimentParams,
        querystring: ReportQuery,
        response: {
          200: {
            description: 'The report',
            content: { 'text/html': { schema: Type.String() }, 'application/json': { schema: ExperimentReport } },
          },
          ...commonErrors,
          ...pickErrors(400, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const record = await recordOf(request.params.experimentId);
      if (request.query.format === 'json') return reply.type('application/json; charset=utf-8').send(await experiments.report(record));
      return reply.header('content-security-policy', REPORT_CSP).type('text/html; charset=utf-8').send(await experiments.reportHtml(record));
    },
  );

  app.get(
    '/v1/experiments/:experimentId/charts/:chart.svg',
    {
      schema: {
        tags: ['experiments'],
        summary: "One of the report's charts as SVG",
        description: `Charts: ${EXPERIMENT_CHARTS.join(', ')}. 404 when the experiment has no data for the chart yet.`,
        params: ChartParams,
        response: { 200: content('image/svg+xml', Type.String(), 'The chart'), ...commonErrors, ...pickErrors(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const record = await recordOf(request.params.experimentId);
      const svg = await experiments.chart(record, request.params.chart);
      if (!svg) throw new ApiError(404, `experiment ${record.experimentId} has no data for the chart ${request.params.chart} yet (no variant has recorded it)`, 'chart');
      return reply.header('content-security-policy', REPORT_CSP).type('image/svg+xml; charset=utf-8').send(svg);
    },
  );
};

export default routes;
