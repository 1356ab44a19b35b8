// OpenAPI 3 document from the route schemas, and Swagger UI at /docs served from the package (no CDN).
// The document never depends on configuration, so the checked-in openapi/openapi.json matches every
// deployment; auth is described as an optional bearer scheme.
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

export const API_TITLE = 'Batch Normalization training and inference service';
export const API_VERSION = '1.0.0';

export const TAGS = [
  { name: 'datasets', description: 'Upload training data (JSON or CSV) and read its statistics' },
  { name: 'training', description: 'Queue training jobs, follow them (SSE), cancel them' },
  { name: 'models', description: 'Trained models, their checkpoints and TF.js artifacts' },
  { name: 'prediction', description: 'Inference with frozen population statistics' },
  { name: 'experiments', description: 'Variants of a training job compared side by side, with an HTML report and SVG charts' },
  {
    name: 'inference-v2',
    description:
      'The Open Inference Protocol (KServe predict protocol v2, Triton HTTP/REST) with the binary tensor data and ' +
      'classification extensions; errors in its {"error": "..."} shape',
  },
  { name: 'operations', description: 'Health, readiness and Prometheus metrics' },
];

export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: API_TITLE,
          version: API_VERSION,
          description:
            'Trains Batch-Normalized multilayer perceptrons on queue workers and serves predictions computed ' +
            'with the frozen population statistics (moving mean and variance) of every BN layer. Every error ' +
            'of the /v1 routes has the shape {statusCode, error, message, field?}; the /v2 routes (the Open ' +
            'Inference Protocol) answer errors as {"error": "..."}. When the server is configured with API keys, ' +
            'every route except /healthz, /readyz, /v2/health/live, /v2/health/ready and /docs needs ' +
            '`Authorization: Bearer <key>`.',
        },
        tags: TAGS,
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'One of the keys in API_KEYS (when set)' },
          },
        },
        security: [{ bearerAuth: [] }],
      },
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      // Same-origin UI over plain HTTP: upgrading its requests to https would break it.
      transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
      uiConfig: { docExpansion: 'list', deepLinking: true },
    });
  },
  { name: 'swagger' },
);
