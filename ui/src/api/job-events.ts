// A job's Server-Sent Events over fetch: EventSource cannot send the Authorization header. The server ends
// the stream after the final event (completed, failed, cancelled); a stream that breaks before it is
// reopened (the server sends the current state first, so nothing is missed).
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { apiErrorOf, ApiRequestError, send } from './client.js';

export const FINAL_EVENTS = new Set(['completed', 'failed', 'cancelled']);

export interface StreamHandlers {
  onEvent(event: string, data: unknown): void;
  /** true while reconnecting after a broken stream, false once it is open again. */
  onReconnecting?(reconnecting: boolean, error?: Error): void;
}

const RETRY_MS = [500, 1000, 2000, 5000];

/** Follows the job until its final event or until `signal` aborts; rejects on a 4xx (no such job, bad id). */
export function followJob(jobId: string, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
  return followEvents(`/v1/training-jobs/${encodeURIComponent(jobId)}/events`, handlers, signal);
}

/** Any of the API's event streams that end with a final event (a job's, an experiment's). */
export async function followEvents(path: string, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      const res = await send(path, {
        headers: { accept: 'text/event-stream' },
        signal,
      });
      if (!res.ok || !res.body) throw await apiErrorOf(res);
      if (failures > 0) handlers.onReconnecting?.(false);
      failures = 0;
      const events = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
      for await (const message of events as unknown as AsyncIterable<{ event?: string; data: string }>) {
        const name = message.event ?? 'message';
        handlers.onEvent(name, JSON.parse(message.data));
        if (FINAL_EVENTS.has(name)) return;
      }
    } catch (err) {
      if (signal.aborted) return;
      // The job does not exist or the request is wrong: retrying will not help.
      if (err instanceof ApiRequestError && err.status >= 400 && err.status < 500) throw err;
      handlers.onReconnecting?.(true, err as Error);
    }
    // The stream ended or broke without a final event (a restart of the API, a proxy timeout): reopen it.
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]));
  }
}
