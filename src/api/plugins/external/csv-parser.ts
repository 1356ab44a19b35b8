// text/csv request bodies arrive as one string (within BODY_LIMIT_BYTES); the dataset service parses them.
import fp from 'fastify-plugin';
import type { Config } from '../../../config/config.js';

export default fp<{ config: Config }>(
  async (app, { config }) => {
    app.addContentTypeParser(
      'text/csv',
      { parseAs: 'string', bodyLimit: config.BODY_LIMIT_BYTES },
      (_request, body, done) => done(null, body),
    );
  },
  { name: 'csv-parser' },
);
