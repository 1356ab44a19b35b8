// The dashboard: the files `npm run build` writes to dist/ui (Vite), served at /ui by @fastify/static, with
// every client route (/ui/models/..., /ui/jobs/...) answered by index.html so that links and reloads work.
// `/` redirects to /ui/. The files are public, like /docs; the page's API calls carry the key themselves.
// Hashed assets are cached for good, index.html is revalidated, so a new build is picked up at once.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fp from 'fastify-plugin';
import fastifyStatic from '@fastify/static';
import { ApiError } from '../app/errors.js';

export const UI_PREFIX = '/ui';

/** dist/src/api/plugins/external/static-ui.js -> dist/ui */
export const UI_DIR = fileURLToPath(new URL('../../../../ui/', import.meta.url));

/** Vite puts every content-hashed file under assets/. */
const ASSETS = 'assets/';

/** True for /ui, /ui/... and /ui?...: the URLs this plugin answers. */
export function isUiUrl(url: string): boolean {
  return url.startsWith(UI_PREFIX) && (url.length === UI_PREFIX.length || url[UI_PREFIX.length] === '/' || url[UI_PREFIX.length] === '?');
}

export default fp<{ root?: string }>(
  async (app, options) => {
    const root = options.root ?? UI_DIR;
    const indexFile = path.join(root, 'index.html');

    app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect(`${UI_PREFIX}/`, 302));

    if (!fs.existsSync(indexFile)) {
      app.log.warn({ root }, 'the dashboard is not built (no index.html): /ui answers 404 until `npm run build` has run');
      const notBuilt = () => {
        throw new ApiError(404, 'the dashboard is not built on this server: run `npm run build`, then restart', 'ui');
      };
      app.get(UI_PREFIX, { schema: { hide: true } }, notBuilt);
      app.get(`${UI_PREFIX}/*`, { schema: { hide: true } }, notBuilt);
      return;
    }
    // Read once: the page is small and the same for every client route.
    const index = fs.readFileSync(indexFile);

    await app.register(fastifyStatic, {
      root,
      prefix: `${UI_PREFIX}/`,
      // A route per built file (found at start), so that an unknown name falls through to the client routes below.
      wildcard: false,
      index: false,
      decorateReply: false,
      schemaHide: true,
      cacheControl: false,
      setHeaders: (reply, file) => {
        const hashed = path.relative(root, file).split(path.sep).join('/').startsWith(ASSETS);
        reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });

    const page = (_request: unknown, reply: import('fastify').FastifyReply) =>
      reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(index);
    app.get(UI_PREFIX, { schema: { hide: true } }, page);
    app.get<{ Params: { '*': string } }>(`${UI_PREFIX}/*`, { schema: { hide: true } }, (request, reply) => {
      // A missing asset is a 404, never the page: a stale tab asking for an old bundle must not get HTML.
      if (request.params['*'].startsWith(ASSETS)) {
        throw new ApiError(404, `no file ${request.url}; reload the page to get the current dashboard`, 'url');
      }
      return page(request, reply);
    });
  },
  { name: 'static-ui' },
);
