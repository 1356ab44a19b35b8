// Server-Sent Events (@fastify/sse): routes declare `sse`, the plugin writes the stream and the heartbeat
// comment lines that keep proxies from closing an idle connection.
import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';
import sseModule, { type SSEPluginOptions } from '@fastify/sse';

export const SSE_HEARTBEAT_MS = 15_000;

// The CommonJS module object is the fastify-plugin-wrapped plugin (its named `fastifySSE` export is the
// unwrapped one, which would stay encapsulated); the typings describe the module, hence the cast.
const ssePlugin = sseModule as unknown as FastifyPluginAsync<SSEPluginOptions>;

export default fp(
  async (app) => {
    await app.register(ssePlugin, { heartbeatInterval: SSE_HEARTBEAT_MS });
  },
  { name: 'sse' },
);
