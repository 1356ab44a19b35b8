// The metrics every request feeds: HTTP latency by route pattern, method and status, and the time spent
// computing predictions by kind and engine. Apart from the rest of the metrics plugin (queue gauges, job
// counters) so that the HTTP benchmark can price exactly this code (bench/http-costs.ts).
import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

/** one, batch, explain: POST /v1/models/:id/predict; infer: the Open Inference Protocol's infer route. */
export type PredictionKind = 'one' | 'batch' | 'explain' | 'infer';

export type ObservePrediction = (kind: PredictionKind, engine: string, seconds: number) => void;

/** Registers both histograms in `registry` and the onResponse hook on `app`; returns the prediction observer. */
export function addRequestMetrics(app: FastifyInstance, registry: Registry): ObservePrediction {
  const httpSeconds = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route pattern, method and status code',
    labelNames: ['route', 'method', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const predictionSeconds = new Histogram({
    name: 'bn_prediction_duration_seconds',
    help: 'Time spent computing predictions (model lookup excluded), by kind (one, batch, explain, infer) and engine (onnx, folded, direct)',
    labelNames: ['kind', 'engine'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1],
    registers: [registry],
  });

  // Callback style: an async hook costs a promise and a microtask per request.
  app.addHook('onResponse', (request, reply, done) => {
    httpSeconds.observe(
      { route: request.routeOptions.url ?? 'unmatched', method: request.method, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  return (kind, engine, seconds) => predictionSeconds.observe({ kind, engine }, seconds);
}
