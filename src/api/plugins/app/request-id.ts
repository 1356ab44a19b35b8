// Request ids: a caller's X-Request-Id is honoured when it is sane (tracing across services), else a new
// UUID; every reply carries it back in X-Request-Id and every log line of the request in reqId.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import fp from 'fastify-plugin';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's genReqId option. */
export function genReqId(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** The X-Request-Id reply header. Register first: then even a 503 from overload protection carries it. */
export default fp(
  async (app) => {
    // On arrival rather than in onSend (one hook stage less per request): headers set here stay on every
    // reply, error replies included. Callback style: an async hook costs a promise and a microtask.
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id);
      done();
    });
  },
  { name: 'request-id' },
);
