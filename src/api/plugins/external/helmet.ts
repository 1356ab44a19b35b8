// Security headers from helmet, in two sets, each computed once at start-up (the options are static, so
// helmet's middleware sets the same headers on every response) and added through Fastify's reply headers
// in a callback hook. @fastify/helmet instead rebuilds the middleware, re-parses the CSP and calls
// setHeader on the raw response for every request, a sizeable share of a one-point prediction's CPU
// (`npm run bench:http-costs` measures it).
// - JSON routes get what OWASP's REST Security Cheat Sheet asks of an API: a CSP that loads nothing and
//   cannot be framed, HSTS, nosniff, X-Frame-Options. Helmet's other headers only mean something for
//   HTML documents.
// - /docs (Swagger UI, HTML) gets helmet's full browser set; Swagger UI adds its own CSP (swagger.ts).
// - /ui (the dashboard, built by Vite) gets the full browser set with a CSP that allows the service's own
//   origin only: no inline script or style, no eval (charts run Vega's expression interpreter), no CDN.
import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import { isUiUrl } from './static-ui.js';

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

/** The dashboard's CSP: 'self' for everything it loads or connects to; data: images for drawn digits. */
export const UI_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
};

const UI_HEADERS = headersOf({
  contentSecurityPolicy: { useDefaults: false, directives: UI_CSP_DIRECTIVES },
  xFrameOptions: { action: 'deny' },
});

/** The security headers of a response to `url`. */
export function securityHeaders(url: string): Record<string, string> {
  if (url.startsWith('/docs') && (url.length === 5 || url[5] === '/' || url[5] === '?')) return DOCUMENT_HEADERS;
  return isUiUrl(url) ? UI_HEADERS : API_HEADERS;
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
