// Load shedding: answer 503 + Retry-After while the event loop is stalled or the heap is nearly full,
// instead of queueing more work until the process falls over. /healthz and /metrics opt out per route
// (config.pressureHandler) so that monitoring keeps seeing the process.
import v8 from 'node:v8';
import fp from 'fastify-plugin';
import underPressure from '@fastify/under-pressure';
import type { Config } from '../../../config/config.js';

/** Fraction of V8's heap limit above which requests are shed. */
const HEAP_FRACTION = 0.9;

export const RETRY_AFTER_SECONDS = 10;

export default fp<{ config: Config }>(
  async (app, { config }) => {
    await app.register(underPressure, {
      maxEventLoopDelay: config.OVERLOAD_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: Math.floor(v8.getHeapStatistics().heap_size_limit * HEAP_FRACTION),
      retryAfter: RETRY_AFTER_SECONDS,
      message: 'the server is overloaded; retry after the number of seconds in Retry-After',
      exposeStatusRoute: false,
    });
  },
  { name: 'under-pressure' },
);

/** Route config that lets a route answer even under pressure (health and metrics). */
export const ignorePressure = { pressureHandler: () => undefined };
