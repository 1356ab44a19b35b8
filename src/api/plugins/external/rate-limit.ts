// Per-client rate limit on the expensive routes only (job submission, prediction): registered with
// global: false, routes opt in with `config: rateLimited(config)`. RATE_LIMIT_MAX=0 turns it off.
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../../config/config.js';

export default fp<{ config: Config }>(
  async (app, { config }) => {
    await app.register(rateLimit, {
      global: false,
      max: Math.max(1, config.RATE_LIMIT_MAX),
      timeWindow: config.RATE_LIMIT_WINDOW_MS,
      // Authenticated clients are limited per key, others per address.
      keyGenerator: (request: FastifyRequest) => request.principal ?? request.ip,
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: 'Too Many Requests',
        message: `rate limit of ${context.max} requests per ${config.RATE_LIMIT_WINDOW_MS / 1000} s exceeded; retry in ${context.after} (see Retry-After)`,
      }),
    });
  },
  { name: 'rate-limit' },
);

/** Route config for a rate-limited route, or nothing when the limit is off. */
export function rateLimited(config: Config): { rateLimit?: Record<string, never> } {
  return config.RATE_LIMIT_MAX > 0 ? { rateLimit: {} } : {};
}
