// The Open Inference Protocol's server metadata: name, version and the extensions this server implements
// (Triton's names: binary tensor data in requests and answers, top-k classification of an output).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import pkg from '../../../../package.json' with { type: 'json' };
import { ServerMetadata, pickOipErrors } from './schemas.js';

export const SERVER_NAME = 'bn-service';
export const EXTENSIONS = ['binary_tensor_data', 'classification'];

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      schema: {
        tags: ['inference-v2'],
        summary: 'Server metadata: name, version, extensions',
        response: { 200: ServerMetadata, ...pickOipErrors(401, 503) },
      },
    },
    async () => ({ name: SERVER_NAME, version: pkg.version, extensions: EXTENSIONS }),
  );
};

export default routes;
