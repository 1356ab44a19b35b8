// Bodies of infer requests and answers under the binary tensor data extension (Triton's
// extension_binary_data): the JSON object, then the binary data of the tensors whose parameters say
// binary_data_size, in their order. Inference-Header-Content-Length gives the JSON's length in bytes;
// without it the body is all JSON.
import { ApiError } from '../plugins/app/errors.js';

export const HEADER_LENGTH_HEADER = 'inference-header-content-length';

export interface InferBody {
  /** The JSON inference request object, not parsed yet. */
  json: Buffer;
  /** What follows it: the inputs' binary tensor data (empty without the header). */
  binary: Buffer;
}

/** Splits `body` at Inference-Header-Content-Length (the header's value as Node gives it). */
export function splitInferBody(body: Buffer, headerLength: string | string[] | undefined): InferBody {
  if (headerLength === undefined) return { json: body, binary: body.subarray(body.length) };
  const field = 'Inference-Header-Content-Length';
  if (typeof headerLength !== 'string' || !/^[0-9]{1,15}$/.test(headerLength.trim())) {
    throw new ApiError(400, `${field} must be one whole number of bytes (the length of the JSON object), got ${JSON.stringify(headerLength).slice(0, 40)}`, field);
  }
  const n = Number(headerLength.trim());
  if (n === 0) {
    throw new ApiError(400, `${field} is 0: the body must start with the JSON inference request object (raw binary requests are not supported)`, field);
  }
  if (n > body.length) {
    throw new ApiError(400, `${field} is ${n}, past the end of the body (${body.length} bytes); it must be the length of the JSON object that starts the body`, field);
  }
  return { json: body.subarray(0, n), binary: body.subarray(n) };
}

export interface InferReply {
  /** application/json, or application/octet-stream when binary data follows the JSON */
  contentType: string;
  payload: string | Buffer;
  /** Inference-Header-Content-Length of a binary answer: the JSON object's length in bytes. */
  headerLength?: number;
}

/** The answer's body: the JSON response object, then the binary outputs in output order, if any. */
export function inferReplyBody(response: object, binaryOutputs: readonly Buffer[]): InferReply {
  const json = JSON.stringify(response);
  if (binaryOutputs.length === 0) return { contentType: 'application/json', payload: json };
  const head = Buffer.from(json, 'utf8');
  return { contentType: 'application/octet-stream', payload: Buffer.concat([head, ...binaryOutputs]), headerLength: head.length };
}
