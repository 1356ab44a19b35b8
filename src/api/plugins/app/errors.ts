// One error shape everywhere: {statusCode, error, message, field?, errors?}. Validation errors name the
// field in the same dotted form the spec validator uses (model.hidden[0]); `errors` lists every field at
// fault (the first one is `field` and `message`, so clients that read only those keep working); library
// errors keep their status code.
import { STATUS_CODES } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FieldError, FieldErrors, type FieldIssue } from '../../../util/field-error.js';
import { describeSchemaError, type SchemaError } from '../../../util/schema-errors.js';
import { QueueUnavailableError } from '../../../queue/types.js';
import { ModelBusyError } from '../../../store/store.js';

/** An error a route throws on purpose: the user sees its status, message and field. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  field?: string;
  errors?: FieldIssue[];
}

export const QUEUE_RETRY_AFTER_SECONDS = 5;

/**
 * Longest path parameter the router matches (Fastify's default is 100). Above the ids' schema limit (128),
 * so that an id of 101-128 characters reaches its route and a longer one gets the schema's 400 naming the
 * field; beyond this the router answers 414 (through frameworkErrors, in the one error shape).
 */
export const MAX_PARAM_LENGTH = 256;

/** Field and message for the first Ajv error of a request part (Fastify stops at the first). */
export function describeValidation(error: SchemaError, context: string): FieldIssue {
  return describeSchemaError(error, context)[0] ?? { field: context, message: `${context} is invalid` };
}

function body(statusCode: number, message: string, field?: string, errors?: readonly FieldIssue[]): ErrorBody {
  return {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
    ...(field !== undefined && { field, errors: errors ? [...errors] : [{ field, message }] }),
  };
}

/** Maps anything thrown to the public shape; a 5xx other than 503 hides its details. */
export function toErrorBody(err: unknown, reply: FastifyReply): ErrorBody {
  if (err instanceof ApiError) {
    for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
    return body(err.statusCode, err.message, err.field);
  }
  if (err instanceof FieldError) return body(400, err.message, err.field);
  if (err instanceof FieldErrors) return body(400, err.message, err.field, err.issues);
  if (err instanceof ModelBusyError) {
    reply.header('retry-after', String(err.retryAfterSeconds));
    return body(503, err.message);
  }
  if (err instanceof QueueUnavailableError) {
    reply.header('retry-after', String(QUEUE_RETRY_AFTER_SECONDS));
    return body(
      503,
      `the job queue is unavailable (Redis is unreachable); retry in ${QUEUE_RETRY_AFTER_SECONDS} s. Predictions and stored models keep working.`,
    );
  }
  const e = err as Partial<FastifyError> & SchemaError & { validation?: SchemaError[]; validationContext?: string };
  if (Array.isArray(e?.validation) && e.validation.length > 0) {
    const { field, message } = describeValidation(e.validation[0], e.validationContext ?? 'body');
    return body(400, message, field);
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return body(400, `the request body is not valid JSON: ${e.message}`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return body(400, 'the request body is empty; send a JSON object or omit the Content-Type header');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return body(413, `the request body is larger than ${reply.server.initialConfig.bodyLimit} bytes (BODY_LIMIT_BYTES)`);
    case 'FST_ERR_BAD_URL':
      return body(400, 'the request path has an invalid %-escape; encode reserved characters as %XX with two hex digits');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return body(414, `a path parameter (an id) is longer than the router accepts (${MAX_PARAM_LENGTH} characters); ids are at most 128 characters`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return body(415, `${e.message}; send application/json (or text/csv where documented)`);
    default:
      break;
  }
  const status = typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  if (status >= 500 && status !== 503) return body(status, 'internal server error; the request id in X-Request-Id locates it in the logs');
  return body(status, typeof e?.message === 'string' && e.message !== '' ? e.message : (STATUS_CODES[status] ?? 'Error'));
}

/** Media type of the request without parameters, lower-cased. */
function mediaType(request: FastifyRequest): string | undefined {
  const header = request.headers['content-type'];
  return header ? header.split(';')[0].trim().toLowerCase() : undefined;
}

/**
 * The error handler's work: maps `err` to the public shape, logs it (5xx other than 503 with the error,
 * the rest as one info line) and sends `shape(body)`. A route family with a protocol of its own (the Open
 * Inference Protocol's {"error": "..."}) passes its shape.
 */
export function sendError(
  err: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  shape: (out: ErrorBody) => object = (out) => out,
): FastifyReply {
  const out = toErrorBody(err, reply);
  if (out.statusCode >= 500 && out.statusCode !== 503) request.log.error({ err }, 'request failed');
  else request.log.info({ statusCode: out.statusCode, field: out.field, code: (err as FastifyError)?.code }, out.message);
  return reply.code(out.statusCode).type('application/json; charset=utf-8').send(shape(out));
}

export default fp(
  async (app) => {
    app.setErrorHandler((err, request, reply) => sendError(err, request, reply));

    app.setNotFoundHandler((request, reply) => {
      const out = body(404, `no route ${request.method} ${request.url.split('?')[0]}; the routes are listed at /docs`);
      return reply.code(404).send(out);
    });

    // Fastify parses text/plain (and our text/csv) for every route; a JSON route must answer 415, not a
    // confusing "body must be object". Accepted types come from the route's body schema (its `content`
    // keys), else from the schema's `consumes` list (one body schema for several media types).
    app.addHook('onRoute', (route) => {
      const schemaBody = route.schema?.body as { content?: Record<string, unknown> } | undefined;
      if (!schemaBody) return;
      const consumes = (route.schema as { consumes?: string[] }).consumes;
      const accepted = schemaBody.content ? Object.keys(schemaBody.content) : (consumes ?? ['application/json']);
      const guard = (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
        const type = mediaType(request);
        if (type !== undefined && !accepted.includes(type)) {
          done(new ApiError(415, `Content-Type ${type} is not supported here; send ${accepted.join(' or ')}`, 'Content-Type'));
          return;
        }
        done();
      };
      const existing = route.preValidation;
      route.preValidation = existing === undefined ? [guard] : [guard, ...(Array.isArray(existing) ? existing : [existing])];
    });
  },
  { name: 'errors' },
);
