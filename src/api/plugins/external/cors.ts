// CORS only when CORS_ORIGIN lists origins; off by default (same-origin and server-to-server clients).
import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import type { Config } from '../../../config/config.js';

export default fp<{ config: Config }>(
  async (app, { config }) => {
    const origins = (config.CORS_ORIGIN ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    if (origins.length === 0) return;
    await app.register(cors, {
      origin: origins.includes('*') ? '*' : origins,
      methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID', 'X-Request-Id'],
      exposedHeaders: ['Location', 'Retry-After', 'X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
      maxAge: 600,
    });
  },
  { name: 'cors' },
);
