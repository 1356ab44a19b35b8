// Bearer-key authentication. API_KEYS is a comma-separated list of keys or `sha256:<hex>` digests of keys;
// only digests are kept in memory and compared (constant time), so a leaked config dump of hashed entries
// does not leak keys. Unset: no auth. /healthz, /readyz, the Open Inference Protocol's /v2/health/live and
// /v2/health/ready, /docs and the dashboard's files (/, /ui) stay open for probes and readers; the dashboard's
// own API calls carry the key.
import { timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../../config/config.js';
import { parseApiKeys, sha256 } from '../../../config/api-keys.js';
import { ApiError } from './errors.js';
import { isUiUrl } from '../external/static-ui.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** 'key:<8 hex of the key digest>' once authenticated; undefined when auth is off */
    principal?: string;
  }
}

const REALM = 'bn-service';
function isPublic(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0];
  return (
    path === '/healthz' ||
    path === '/readyz' ||
    path === '/v2/health/live' ||
    path === '/v2/health/ready' ||
    path === '/docs' ||
    path.startsWith('/docs/') ||
    path === '/' ||
    isUiUrl(path)
  );
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    const digests = parseApiKeys(config.API_KEYS);
    app.decorateRequest('principal', undefined);
    if (digests.length === 0) return;

    app.addHook('onRequest', async (request) => {
      if (isPublic(request)) return;
      const header = request.headers.authorization;
      const match = typeof header === 'string' ? /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header) : null;
      if (!match) {
        throw new ApiError(401, 'missing credentials: send Authorization: Bearer <API key>', 'Authorization', {
          'www-authenticate': `Bearer realm="${REALM}"`,
        });
      }
      const presented = sha256(match[1]);
      // Compare against every key so the time taken does not tell which one (or whether any) matched.
      let found: Buffer | undefined;
      for (const digest of digests) if (timingSafeEqual(presented, digest) && !found) found = digest;
      if (!found) {
        throw new ApiError(401, 'invalid API key', 'Authorization', {
          'www-authenticate': `Bearer realm="${REALM}", error="invalid_token"`,
        });
      }
      request.principal = `key:${found.subarray(0, 4).toString('hex')}`;
    });
  },
  { name: 'auth' },
);
