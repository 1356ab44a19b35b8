// Schemas of the Open Inference Protocol routes (KServe's predict protocol v2, Triton's HTTP API): the
// JSON objects of the protocol's required API, with the parameters of the binary tensor data and
// classification extensions this server implements. Field names are the protocol's (snake_case).
import { Type, type Static } from 'typebox';
import { ID_PATTERN } from '../schemas.js';
import { CheckpointRefString } from '../../../schemas/checkpoint-ref.js';

export const OipError = Type.Object(
  { error: Type.String({ description: 'What went wrong and what to do about it' }) },
  { additionalProperties: false, description: 'Every error of the /v2 routes has this shape (the protocol\'s)' },
);

const E = (description: string) => ({ ...OipError, description });

/** Error responses of the /v2 routes, by status code. */
export const oipErrors = {
  400: E('Invalid request, or (health and readiness) not ready'),
  401: E('Missing or invalid API key (only when the server has API_KEYS)'),
  404: E('Unknown model or version'),
  413: E('Request body larger than BODY_LIMIT_BYTES'),
  415: E('Unsupported Content-Type or Content-Encoding'),
  429: E('Rate limit exceeded (Retry-After says when to retry)'),
  503: E('Overloaded (Retry-After says when to retry), or the model cannot be served yet'),
};

export function pickOipErrors<K extends keyof typeof oipErrors>(...codes: K[]): Pick<typeof oipErrors, K> {
  return Object.fromEntries(codes.map((c) => [c, oipErrors[c]])) as Pick<typeof oipErrors, K>;
}

export const ModelParams = Type.Object({
  model: Type.String({ pattern: ID_PATTERN, description: 'A model id (mdl_...)' }),
});

export const ModelVersionParams = Type.Object({
  model: Type.String({ pattern: ID_PATTERN, description: 'A model id (mdl_...)' }),
  version: CheckpointRefString(
    'A checkpoint epoch (1, 2, ...), or a name for one: latest, best or an alias (answers give the epoch as model_version); without /versions/{version}, the newest',
  ),
});

export const ServerMetadata = Type.Object(
  {
    name: Type.String(),
    version: Type.String(),
    extensions: Type.Array(Type.String(), { description: 'binary_tensor_data, classification' }),
  },
  { additionalProperties: false, description: 'Server metadata' },
);

const TensorMetadata = Type.Object(
  {
    name: Type.String(),
    datatype: Type.String({ description: 'FP32' }),
    shape: Type.Array(Type.Integer(), { description: '-1 for the batch dimension' }),
  },
  { additionalProperties: false },
);

export const ModelMetadata = Type.Object(
  {
    name: Type.String({ description: 'The model id' }),
    versions: Type.Array(Type.String(), {
      description: 'Checkpoint epochs that may be requested, ascending (aliases name versions and are not listed: see GET /v1/models/{model})',
    }),
    platform: Type.String({ description: 'bn-service_checkpoint: a checkpoint document of this service' }),
    inputs: Type.Array(TensorMetadata),
    outputs: Type.Array(TensorMetadata),
  },
  { additionalProperties: false, description: 'Model metadata' },
);

const RequestInput = Type.Object(
  {
    name: Type.String({ maxLength: 256 }),
    shape: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 8, description: '[rows, features]' }),
    datatype: Type.String({ maxLength: 32, description: 'FP32 or FP64' }),
    parameters: Type.Optional(
      Type.Object(
        {
          binary_data_size: Type.Optional(
            Type.Integer({ minimum: 0, description: 'Bytes of this tensor in the binary part of the body (binary tensor data extension)' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    data: Type.Optional(Type.Array(Type.Unknown(), { description: 'Numbers, row-major, flat or nested by the shape' })),
  },
  { additionalProperties: false },
);

const RequestOutput = Type.Object(
  {
    name: Type.String({ maxLength: 256 }),
    parameters: Type.Optional(
      Type.Object(
        {
          binary_data: Type.Optional(Type.Boolean({ description: 'true: this output in the binary part of the answer' })),
          classification: Type.Optional(
            Type.Integer({ minimum: 1, description: 'Top-k classes instead of the tensor: BYTES "value:index" (classification extension)' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const InferRequest = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 256, description: 'Echoed in the answer' })),
    model_name: Type.Optional(Type.String({ description: 'If given, the model of the path' })),
    model_version: Type.Optional(Type.String({ description: 'If given, the version of the path' })),
    parameters: Type.Optional(
      Type.Object(
        { binary_data_output: Type.Optional(Type.Boolean({ description: 'true: every output in binary unless it says otherwise' })) },
        { additionalProperties: false },
      ),
    ),
    inputs: Type.Array(RequestInput, { minItems: 1, maxItems: 64 }),
    outputs: Type.Optional(Type.Array(RequestOutput, { maxItems: 64, description: 'Default: every output, as binary_data_output says' })),
  },
  {
    additionalProperties: false,
    description:
      'The inference request object. With Content-Type application/octet-stream (or none) and the ' +
      'Inference-Header-Content-Length header, this object is the first Inference-Header-Content-Length bytes ' +
      'of the body and the binary tensor data of the inputs with parameters.binary_data_size follows it, in ' +
      'the order of the inputs (little-endian, row-major).',
  },
);
export type InferRequest = Static<typeof InferRequest>;
export type RequestInput = Static<typeof RequestInput>;
export type RequestOutput = Static<typeof RequestOutput>;

const ResponseOutput = Type.Object(
  {
    name: Type.String(),
    datatype: Type.String({ description: 'FP32, or BYTES for a classification' }),
    shape: Type.Array(Type.Integer()),
    parameters: Type.Optional(
      Type.Object({ binary_data_size: Type.Integer({ description: 'Bytes of this output in the binary part' }) }, { additionalProperties: false }),
    ),
    data: Type.Optional(Type.Array(Type.Union([Type.Number(), Type.String()]), { description: 'Flat, row-major' })),
  },
  { additionalProperties: false },
);

export const InferResponse = Type.Object(
  {
    model_name: Type.String(),
    model_version: Type.String({ description: 'The checkpoint epoch used' }),
    id: Type.Optional(Type.String()),
    outputs: Type.Array(ResponseOutput),
  },
  { additionalProperties: false, description: 'The inference response object (application/json)' },
);
export type InferResponse = Static<typeof InferResponse>;
export type ResponseOutput = Static<typeof ResponseOutput>;
