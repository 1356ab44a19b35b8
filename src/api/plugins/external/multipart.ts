// multipart/form-data (@fastify/multipart, the official plugin over busboy) for dataset file uploads. Files
// are streamed to the route part by part; nothing is buffered or written to a temporary directory here.
// A file may be one byte over BODY_LIMIT_BYTES before busboy cuts it, so that the route's own count
// (over all files together) reports the limit first, naming the file, instead of a truncated file.
import fp from 'fastify-plugin';
import fastifyMultipart from '@fastify/multipart';
import type { Config } from '../../../config/config.js';

/** Value fields of a form are short (a name, a column, a number). */
export const MULTIPART_FIELD_BYTES = 1024;

export default fp<{ config: Config }>(
  async (app, { config }) => {
    await app.register(fastifyMultipart, {
      throwFileSizeLimit: true,
      limits: {
        fileSize: config.BODY_LIMIT_BYTES + 1,
        fieldSize: MULTIPART_FIELD_BYTES,
        fieldNameSize: 100,
        files: 8,
        fields: 10,
        parts: 20,
        headerPairs: 100,
      },
    });
  },
  { name: 'multipart' },
);
