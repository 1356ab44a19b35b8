// Security headers from helmet, in two sets, each computed once at start-up (the options are static, so
// helmet's middleware sets the same headers on every response) and added through Fastify's reply headers
// in a callback hook. @fastify/helmet instead rebuilds the middleware, re-parses the CSP and calls
// setHeader on the raw response for every request, a sizeable share of a one-point prediction's CPU
// (`npm run bench:http-costs` measures it).
// - JSON routes get what OWASP's REST Security Cheat Sheet asks of an API: a CSP that loads nothing and
//   cannot be framed, HSTS, nosniff, X-Frame-Options. Helmet's other headers only mean something for
//   HTML documents.
// - /docs (Swagger UI, HTML) gets helmet's full browser set; Swagger UI adds its own CSP (swagger.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

/** The headers helmet's middleware sets for these options, captured once. */
function headersOf(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = { setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)), removeHeader: () => undefined };
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return headers;
}

const API_HEADERS = headersOf({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  xFrameOptions: { action: 'deny' },
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
});

const DOCUMENT_HEADERS = headersOf({
  // The service is often reached over plain HTTP on localhost: upgrading Swagger UI's requests would break it.
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
});

/** The security headers of a response to `url`. */
export function securityHeaders(url: string): Record<string, string> {
  const docs = url.startsWith('/docs') && (url.length === 5 || url[5] === '/' || url[5] === '?');
  return docs ? DOCUMENT_HEADERS : API_HEADERS;
}

export default fp(
  async (app) => {
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(securityHeaders(request.url));
      done();
    });
  },
  { name: 'helmet' },
);
