// Training jobs: submission (src/training-jobs/submit.ts does the whole flow), the list, one job with its
// history, cancellation. Status and progress come from the queue, the history from the model's epoch log.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { JobAccepted, JobStatus, JobStatusName, trainingJobRequestSchema } from '../../schemas/job.js';
import { requestLimits } from '../../config/config.js';
import { createSubmitter } from '../../training-jobs/submit.js';
import { IDEMPOTENCY_TTL_SECONDS } from '../../queue/names.js';
import type { ModelRecord } from '../../store/store.js';
import { PageQuery, after, encodeCursor, newestFirst, pageLimit } from '../pagination.js';
import { ApiError } from '../plugins/app/errors.js';
import { rateLimited } from '../plugins/external/rate-limit.js';
import { JobIdParams, JobList, commonErrors, described, pickErrors } from './schemas.js';

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      description:
        `Repeat a submission safely: within ${IDEMPOTENCY_TTL_SECONDS / 3600} h the same key and body return the first job; ` +
        'the same key with another body is 422 (1-200 visible ASCII characters)',
    }),
  ),
});

const ListQuery = Type.Object({ ...PageQuery, status: Type.Optional(JobStatusName) }, { additionalProperties: false });

const position = (r: ModelRecord) => ({ createdAt: r.createdAt, id: r.modelId });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, queue, config } = app;
  const submit = createSubmitter({ store, queue, config, log: app.log });

  app.post(
    '/v1/training-jobs',
    {
      config: rateLimited(config),
      schema: {
        tags: ['training'],
        summary: 'Queue a training job',
        description:
          'Give exactly one of `datasetId` and `data`. The model specification, training options, data and the ' +
          "server's limits (the schema's maxima) are all checked before anything is queued, and every field at " +
          'fault is reported in `errors`. Follow the job at Location (or its /events stream). With an ' +
          'Idempotency-Key header, a repeated submission returns the first job.',
        headers: IdempotencyHeaders,
        body: trainingJobRequestSchema(requestLimits(config)),
        response: {
          202: described(JobAccepted, 'Queued; Location points at the job'),
          ...commonErrors,
          ...pickErrors(400, 404, 413, 415, 422, 429, 503),
        },
      },
      // The submission validates the body itself, reporting every problem at once (Fastify's validator
      // stops at the first); the schema above documents it.
      validatorCompiler: ({ httpPart }) => (httpPart === 'body' ? (data: unknown) => ({ value: data }) : () => true),
    },
    async (request, reply) => {
      const job = await submit({ body: request.body, principal: request.principal ?? 'anonymous', idempotencyKey: request.headers['idempotency-key'] });
      return reply.code(202).header('location', `/v1/training-jobs/${job.jobId}`).send(job);
    },
  );

  app.get(
    '/v1/training-jobs',
    {
      schema: {
        tags: ['training'],
        summary: 'List training jobs, newest first (paginated; ?status= filters)',
        description: 'Jobs the queue keeps (finished ones for 7 days), without their history. 503 while Redis is unreachable.',
        querystring: ListQuery,
        response: { 200: described(JobList, 'Jobs, newest first'), ...commonErrors, ...pickErrors(400, 503) },
      },
    },
    async (request) => {
      const { status, ...pageQuery } = request.query;
      const records = (await store.listModels()).sort(newestFirst(position));
      // Every model names its job: walk them newest first, reading statuses a page at a time, until the page is full.
      const limit = pageLimit(pageQuery.limit);
      const jobs: JobStatus[] = [];
      let rest = after(records, pageQuery.cursor, position);
      let last: ModelRecord | undefined;
      let more = false;
      while (rest.length > 0 && !more) {
        const batch = rest.slice(0, limit);
        rest = rest.slice(limit);
        const statuses = await queue.getStatuses(batch.map((r) => r.jobId));
        for (const r of batch) {
          const s = statuses.get(r.jobId);
          if (!s || (status !== undefined && s.status !== status)) continue;
          if (jobs.length === limit) {
            more = true;
            break;
          }
          jobs.push(s);
          last = r;
        }
      }
      return { jobs, ...(more && last && { nextCursor: encodeCursor(position(last)) }) };
    },
  );

  app.get(
    '/v1/training-jobs/:jobId',
    {
      schema: {
        tags: ['training'],
        summary: 'Status, progress and per-epoch history of a job',
        params: JobIdParams,
        response: { 200: described(JobStatus, 'The job'), ...commonErrors, ...pickErrors(400, 404, 503) },
      },
    },
    async (request) => {
      const status = await queue.getStatus(request.params.jobId);
      if (!status) throw new ApiError(404, `no training job ${request.params.jobId}`, 'jobId');
      return { ...status, history: (await store.readEpochs(status.modelId)).records };
    },
  );

  app.delete(
    '/v1/training-jobs/:jobId',
    {
      schema: {
        tags: ['training'],
        summary: 'Cancel a queued or running job',
        description:
          '200 when the job is already finished (returned unchanged) or cancelled; 202 when the cancellation was ' +
          'sent to the worker running it and the status will change shortly. Checkpoints saved so far are kept ' +
          '(DELETE /v1/models/:modelId removes the model too).',
        params: JobIdParams,
        response: {
          200: described(JobStatus, 'Finished or cancelled'),
          202: described(JobStatus, 'Cancellation requested'),
          ...commonErrors,
          ...pickErrors(400, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const status = await queue.cancel(request.params.jobId);
      if (!status) throw new ApiError(404, `no training job ${request.params.jobId}`, 'jobId');
      const pending = status.status === 'queued' || status.status === 'running';
      return reply.code(pending ? 202 : 200).send({ ...status, history: (await store.readEpochs(status.modelId)).records });
    },
  );
};

export default routes;
