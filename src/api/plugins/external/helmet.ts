// Security headers. The CSP is helmet's default minus upgrade-insecure-requests (the service is often
// reached over plain HTTP on localhost); Swagger UI sets its own CSP on /docs (see swagger.ts).
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';

export default fp(
  async (app) => {
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
      // JSON APIs are read cross-origin by design (CORS decides who), so do not block embedders.
      crossOriginResourcePolicy: { policy: 'cross-origin' },
    });
  },
  { name: 'helmet' },
);
