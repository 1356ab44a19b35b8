// The Open Inference Protocol's inference route, JSON and binary tensor data: x [N, inputDim] in FP32 or
// FP64, y [N, outputDim] in FP32 (or its top-k classes), with the frozen population statistics as every
// prediction of this service. Same auth, rate limit, overload protection, request id and metrics as
// POST /v1/models/:id/predict, and the same checks of the values.
import { Type, type TSchema } from 'typebox';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../plugins/app/errors.js';
import { rateLimited } from '../../plugins/external/rate-limit.js';
import { INFER_MEDIA_TYPES } from '../../plugins/app/infer-body-parser.js';
import { HEADER_LENGTH_HEADER, inferReplyBody } from '../../oip/infer-body.js';
import { decodeInputs, encodeOutput } from '../../oip/tensors.js';
import { OUTPUT_NAME, inputRows, outputEncoding } from '../../oip/model-binding.js';
import { InferRequest, InferResponse, ModelParams, ModelVersionParams, pickOipErrors } from './schemas.js';
import { checkpointOf, loadModel } from './model-ref.js';

const BINARY_BODY =
  'The JSON inference request object (its length in Inference-Header-Content-Length), then the binary tensor ' +
  'data of the inputs with parameters.binary_data_size, in input order: little-endian, row-major.';

const InferHeaders = Type.Object({
  [HEADER_LENGTH_HEADER]: Type.Optional(
    Type.String({ description: 'Length in bytes of the JSON object that starts the body, when binary tensor data follows it' }),
  ),
});

function schema<P extends TSchema>(summary: string, params: P) {
  return {
    tags: ['inference-v2'],
    summary,
    description:
      'Open Inference Protocol inference (KServe v2, Triton HTTP) with the binary tensor data and classification ' +
      'extensions. Input x [N, inputDim] as FP32 or FP64, in JSON `data` (flat or nested) or as binary data ' +
      'after the JSON; output y [N, outputDim] as FP32, in JSON or as binary (parameters.binary_data on the output, ' +
      'or binary_data_output on the request), or as top-k "value:index" strings with parameters.classification. ' +
      'Inference mode: every BN layer uses its moving mean and variance; rows are independent.',
    params,
    body: InferRequest,
    consumes: INFER_MEDIA_TYPES,
    response: {
      200: {
        description: 'The inference response: JSON, or with binary outputs the JSON object (length in Inference-Header-Content-Length) followed by their bytes',
        content: {
          'application/json': { schema: InferResponse },
          'application/octet-stream': { schema: Type.String({ format: 'binary', description: 'JSON response object, then the binary outputs in output order' }) },
        },
      },
      ...pickOipErrors(400, 401, 404, 413, 415, 429, 503),
    },
  };
}

/**
 * What the document shows but validation does not need: the binary request body as binary (validation
 * keeps the one JSON schema for every media type) and the Inference-Header-Content-Length header (the body
 * parser reads it).
 */
const swaggerTransform = ({ schema: s, url }: { schema: object; url: string }) => ({
  url,
  schema: {
    ...s,
    headers: InferHeaders,
    consumes: undefined,
    body: {
      content: {
        'application/json': { schema: InferRequest },
        'application/octet-stream': { schema: { type: 'string', format: 'binary', description: BINARY_BODY } },
      },
    },
  },
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { modelCache, config, metrics } = app;
  // No access log line per inference, as for v1 predictions; errors are still logged and every request is
  // counted in http_request_duration_seconds.
  const routeConfig = { ...rateLimited(config), accessLog: false, swaggerTransform };

  const infer = async (modelId: string, version: string | undefined, request: InferRequest, binary: Buffer, reply: FastifyReply) => {
    const { model } = modelCache.peek(modelId, checkpointOf(version)) ?? (await loadModel(app, modelId, version));
    if (request.model_name !== undefined && request.model_name !== modelId) {
      throw new ApiError(400, `model_name ${JSON.stringify(request.model_name)} in the body is not the model of the path, ${modelId}`, 'model_name');
    }
    if (request.model_version !== undefined && request.model_version !== String(model.epoch) && request.model_version !== version) {
      throw new ApiError(400, `model_version ${JSON.stringify(request.model_version)} in the body is not the version served, ${model.epoch}`, 'model_version');
    }
    const rows = inputRows(decodeInputs(request.inputs, binary), modelId, model.inputDim, config.MAX_PREDICT_INSTANCES);
    const encoding = outputEncoding(request, modelId);

    const t0 = performance.now();
    const y = rows.length === 1 ? await model.predictOne(rows[0]) : (await model.predict(rows)).flat();
    metrics.observePrediction('infer', model.engine, (performance.now() - t0) / 1000);

    const out = encodeOutput({ name: OUTPUT_NAME, shape: [rows.length, model.outputDim], values: y }, encoding);
    const body = inferReplyBody(
      { model_name: modelId, model_version: String(model.epoch), ...(request.id !== undefined && { id: request.id }), outputs: [out.json] },
      out.bytes ? [out.bytes] : [],
    );
    if (body.headerLength !== undefined) reply.header(HEADER_LENGTH_HEADER, body.headerLength);
    return reply.type(body.contentType).send(body.payload);
  };

  app.post(
    '/models/:model/infer',
    { config: routeConfig, schema: schema('Inference with the newest checkpoint', ModelParams) },
    async (request, reply) => infer(request.params.model, undefined, request.body, request.inferBinary ?? Buffer.alloc(0), reply),
  );
  app.post(
    '/models/:model/versions/:version/infer',
    { config: routeConfig, schema: schema('Inference with one version (an epoch, latest, best or an alias)', ModelVersionParams) },
    async (request, reply) => infer(request.params.model, request.params.version, request.body, request.inferBinary ?? Buffer.alloc(0), reply),
  );
};

export default routes;
