// Server-Sent Events for one job:
//   status      first: the whole JobStatus, with the full history
//   progress    per update: the JobStatus without history (where training is: epoch, batch, loss...)
//   epoch       per completed epoch: that epoch's metrics (EpochMetrics), read from the model's epoch log
//   completed | failed | cancelled   last: the whole JobStatus with the full history; the stream ends
// so a client keeps the history from the first event and appends each `epoch`, and nothing grows with
// the number of epochs per event. A client that connects after the job finished gets `status` and the
// final event at once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { JobStatus } from '../../schemas/job.js';
import type { EpochMetrics } from '../../schemas/checkpoint.js';
import type { JobEvent } from '../../queue/types.js';
import { FINAL_STATUSES, withProgress } from '../../queue/job-status.js';
import { ApiError } from '../plugins/app/errors.js';
import { JobIdParams, sseResponses } from './schemas.js';

/** Pub/sub can drop a message (a Redis reconnect): poll now and then so a stream always ends. */
const POLL_MS = 5000;

type Sse = { id: string; event: string; data: unknown };

/** A push-to-pull queue that ends when closed. */
class Channel<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const next = this.items.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/** True when a progress report is behind a status (an earlier epoch, or an earlier batch of the same epoch). */
function isOlder(p: JobStatus['progress'], than: JobStatus['progress']): boolean {
  return p.epoch < than.epoch || (p.epoch === than.epoch && (p.batch ?? 0) < (than.batch ?? 0));
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const open = new Set<Channel<JobEvent>>();
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
          'Events: `status` first (the whole JobStatus with its full `history`), then `progress` (the JobStatus ' +
          'without `history`, one per update) and `epoch` (the metrics of each completed epoch, as in `history`), ' +
          'then exactly one of `completed`, `failed`, `cancelled` (the whole JobStatus with the full history), ' +
          'after which the server ends the stream. `data` is JSON. Lines starting with `:` are heartbeats.',
        params: JobIdParams,
        response: sseResponses(),
      },
    },
    async (request, reply) => {
      const { jobId } = request.params;
      const channel = new Channel<JobEvent>();
      // Subscribe before reading the state, so no update falls between the two.
      const unsubscribe = await app.queue.subscribe(jobId, (event) => {
        channel.push(event);
        if (event.type === 'status' && event.final) channel.close();
      });
      let poll: NodeJS.Timeout | undefined;
      try {
        const first = await app.queue.getStatus(jobId);
        if (!first) throw new ApiError(404, `no training job ${jobId}`, 'jobId');
        const { modelId } = first;
        const log = await app.store.readEpochs(modelId);
        let logByte = log.nextByte;
        let lastEpoch = log.records.at(-1)?.epoch ?? 0;
        open.add(channel);
        reply.raw.on('close', () => channel.close());
        // A client that left while we subscribed and read the state gets no stream.
        if (request.raw.destroyed || reply.raw.destroyed) return reply;
        poll = setInterval(() => {
          app.queue.getStatus(jobId).then(
            (s) => {
              // The job's record expired (retention): nothing more will come.
              if (!s) channel.close();
              else if (FINAL_STATUSES.has(s.status)) {
                channel.push({ type: 'status', status: s, final: true });
                channel.close();
              }
            },
            (err: Error) => request.log.debug({ err: err.message }, 'SSE poll of the job failed; the next poll retries'),
          );
        }, POLL_MS);
        poll.unref();

        /** Epochs completed since the last one sent, from the log (read from where the last read ended). */
        const newEpochs = async (): Promise<EpochMetrics[]> => {
          const read = await app.store.readEpochs(modelId, logByte);
          logByte = read.nextByte;
          const fresh = read.records.filter((r) => r.epoch > lastEpoch);
          if (fresh.length > 0) lastEpoch = fresh[fresh.length - 1].epoch;
          return fresh;
        };
        const withHistory = async (s: JobStatus): Promise<JobStatus> => ({ ...s, history: (await app.store.readEpochs(modelId)).records });

        let id = 0;
        let current: JobStatus = first;
        const events = async function* (): AsyncGenerator<Sse> {
          yield { id: String(++id), event: 'status', data: { ...first, history: log.records } };
          if (FINAL_STATUSES.has(first.status)) {
            yield { id: String(++id), event: first.status, data: { ...first, history: log.records } };
            return;
          }
          for await (const ev of channel) {
            if (ev.type === 'status') {
              if (ev.final) {
                yield { id: String(++id), event: ev.status.status, data: await withHistory(ev.status) };
                return;
              }
              current = ev.status;
              // A new attempt may have repaired the log after a crash: read it from the start again.
              logByte = 0;
              yield { id: String(++id), event: 'progress', data: current };
              continue;
            }
            const next = withProgress(current, ev.progress);
            // Updates that arrived between subscribing and reading `first` are older than it: skip them.
            if (isOlder(next.progress, current.progress)) continue;
            current = next;
            yield { id: String(++id), event: 'progress', data: current };
            if (current.progress.epoch > lastEpoch) {
              for (const metrics of await newEpochs()) yield { id: String(++id), event: 'epoch', data: metrics };
            }
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

export default routes;
