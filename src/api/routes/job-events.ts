// Server-Sent Events for one job: `status` (the current state) first, then `progress` per update, then a
// final `completed`, `failed` or `cancelled` event, and the stream ends. A client that connects after the
// job finished gets the state and the final event at once. Every event carries the whole JobStatus.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { JobStatus } from '../../schemas/job.js';
import type { JobEvent } from '../../queue/types.js';
import { ApiError } from '../plugins/app/errors.js';
import { JobIdParams, commonErrors, content, described, errors, pickErrors } from './schemas.js';

/** Pub/sub can drop a message (a Redis reconnect): poll now and then so a stream always ends. */
const POLL_MS = 5000;

const FINAL = new Set(['completed', 'failed', 'cancelled']);

/** A push-to-pull queue of events that ends when closed. */
class EventChannel {
  private readonly items: JobEvent[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  push(event: JobEvent): void {
    if (this.closed) return;
    this.items.push(event);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<JobEvent> {
    for (;;) {
      const next = this.items.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const open = new Set<EventChannel>();
  // Ends open streams when the server closes; otherwise app.close() waits for every client to leave.
  app.addHook('preClose', async () => {
    for (const channel of open) channel.close();
  });

  app.get(
    '/v1/training-jobs/:jobId/events',
    {
      sse: 'only',
      schema: {
        tags: ['training'],
        summary: 'Follow a job (Server-Sent Events)',
        description:
          'Events: `status` (current state, first), `progress` (one per update), then exactly one of `completed`, ' +
          '`failed`, `cancelled`, after which the server ends the stream. `data` is always the whole JobStatus ' +
          'as JSON. Lines starting with `:` are heartbeats.',
        params: JobIdParams,
        response: {
          200: content('text/event-stream', Type.String(), 'event: <type>\\ndata: <JobStatus JSON>\\n\\n ...'),
          406: described(errors[400], 'The client refused text/event-stream'),
          ...commonErrors,
          ...pickErrors(400, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const { jobId } = request.params;
      const channel = new EventChannel();
      // Subscribe before reading the state, so no update falls between the two.
      const unsubscribe = await app.queue.subscribe(jobId, (event) => {
        channel.push(event);
        if (FINAL.has(event.type)) channel.close();
      });
      let poll: NodeJS.Timeout | undefined;
      try {
        const first = await app.queue.getStatus(jobId);
        if (!first) throw new ApiError(404, `no training job ${jobId}`, 'jobId');
        open.add(channel);
        reply.raw.on('close', () => channel.close());
        // A client that left while we subscribed and read the state gets no stream.
        if (request.raw.destroyed || reply.raw.destroyed) return reply;
        poll = setInterval(() => {
          app.queue.getStatus(jobId).then(
            (s) => {
              // The job's record expired (retention): nothing more will come.
              if (!s) channel.close();
              else if (FINAL.has(s.status)) {
                channel.push({ type: s.status as JobEvent['type'], status: s });
                channel.close();
              }
            },
            () => {},
          );
        }, POLL_MS);
        poll.unref();

        let id = 0;
        const events = async function* () {
          yield { id: String(++id), event: 'status', data: first };
          if (FINAL.has(first.status)) {
            yield { id: String(++id), event: first.status, data: first };
            return;
          }
          for await (const ev of channel) {
            // Updates that arrived between subscribing and reading `first` are older than it: skip them.
            if (ev.type === 'progress' && isOlder(ev.status, first)) continue;
            yield { id: String(++id), event: ev.type, data: ev.status as JobStatus };
            if (FINAL.has(ev.type)) return;
          }
        };
        await reply.sse.send(events());
      } finally {
        clearInterval(poll);
        open.delete(channel);
        channel.close();
        unsubscribe();
      }
    },
  );
};

/** True when a progress status is behind another one of the same job (an earlier epoch or batch). */
function isOlder(a: JobStatus, b: JobStatus): boolean {
  const ea = a.progress.epoch;
  const eb = b.progress.epoch;
  return ea < eb || (ea === eb && (a.progress.batch ?? 0) < (b.progress.batch ?? 0));
}

export default routes;
