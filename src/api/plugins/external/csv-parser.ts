// text/csv request bodies are handed to the route as the raw stream: the dataset upload parses them as
// they arrive (and counts their bytes against BODY_LIMIT_BYTES itself), so a large CSV is never one string.
import fp from 'fastify-plugin';

export default fp(
  async (app) => {
    app.addContentTypeParser('text/csv', (_request, payload, done) => done(null, payload));
  },
  { name: 'csv-parser' },
);
