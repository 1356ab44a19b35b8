// The service's collaborators as decorators, so routes reach them through `app` (and tests can build an
// app around real objects of their choosing).
import fp from 'fastify-plugin';
import type { Config } from '../../../config/config.js';
import type { Store } from '../../../store/store.js';
import type { TrainingQueue } from '../../../queue/types.js';
import type { InferenceEngine } from '../../../inference/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    store: Store;
    queue: TrainingQueue;
    inference: InferenceEngine;
  }
}

export interface Services {
  config: Config;
  store: Store;
  queue: TrainingQueue;
  inference: InferenceEngine;
}

export default fp<Services>(
  async (app, services) => {
    app.decorate('config', services.config);
    app.decorate('store', services.store);
    app.decorate('queue', services.queue);
    app.decorate('inference', services.inference);
  },
  { name: 'services' },
);
