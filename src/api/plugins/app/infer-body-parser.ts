// Bodies of the Open Inference Protocol's routes (registered inside the /v2 routes only): JSON, or JSON
// followed by binary tensor data (Inference-Header-Content-Length), with Content-Type application/json,
// application/octet-stream or none at all (NVIDIA's tritonclient sends none), gzip- or deflate-encoded
// as tritonclient may send them. The body becomes the parsed JSON object, which the route's schema then
// validates like any JSON body; the binary part is kept in request.inferBinary.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../../config/config.js';
import { HEADER_LENGTH_HEADER, splitInferBody } from '../../oip/infer-body.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The binary tensor data after the JSON object of an infer request (empty when there is none). */
    inferBinary: Buffer | null;
  }
}

export const INFER_MEDIA_TYPES = ['application/json', 'application/octet-stream'];

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

/** The decoder of a Content-Encoding, undefined for identity; 415 for one not supported. */
function decoderOf(request: FastifyRequest): typeof gunzip | undefined {
  const header = request.headers['content-encoding'];
  if (header === undefined) return undefined;
  const encoding = String(header).trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') return gunzip;
  if (encoding === 'deflate') return inflate;
  throw new ApiError(415, `Content-Encoding ${encoding.slice(0, 40)} is not supported; send identity, gzip or deflate`, 'Content-Encoding');
}

/** The body decoded, no larger than `limit` decoded (413). */
async function decode(decoder: typeof gunzip, body: Buffer, limit: number, request: FastifyRequest): Promise<Buffer> {
  try {
    return await decoder(body, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ApiError(413, `the decoded request body is larger than ${limit} bytes (BODY_LIMIT_BYTES)`);
    }
    const encoding = String(request.headers['content-encoding']).trim().toLowerCase();
    throw new ApiError(400, `the request body is not valid ${encoding} data: ${(err as Error).message}`, 'Content-Encoding');
  }
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    app.decorateRequest('inferBinary', null);
    const parseJson = app.getDefaultJsonParser('error', 'error');
    const limit = config.BODY_LIMIT_BYTES;

    /** JSON object and binary part of an identity-encoded body. */
    const split = (request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
      const { json, binary } = splitInferBody(body, request.headers[HEADER_LENGTH_HEADER]);
      request.inferBinary = binary;
      parseJson(request, json.toString('utf8'), done);
    };

    // Callback style: an identity-encoded body (the usual one) costs no promise.
    const parse = (request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
      try {
        const type = request.headers['content-type']?.split(';')[0].trim().toLowerCase();
        if (type !== undefined && type !== '' && !INFER_MEDIA_TYPES.includes(type)) {
          throw new ApiError(415, `Content-Type ${type.slice(0, 60)} is not supported here; send ${INFER_MEDIA_TYPES.join(' or ')}`, 'Content-Type');
        }
        const decoder = decoderOf(request);
        if (decoder === undefined) {
          split(request, body, done);
          return;
        }
        decode(decoder, body, limit, request).then(
          (decoded) => {
            try {
              split(request, decoded, done);
            } catch (err) {
              done(err as Error);
            }
          },
          (err: Error) => done(err),
        );
      } catch (err) {
        done(err as Error);
      }
    };

    // Replaces the JSON and text parsers of this scope only; '*' also takes a body without Content-Type.
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser([...INFER_MEDIA_TYPES, '*'], { parseAs: 'buffer', bodyLimit: limit }, (request, body, done) =>
      parse(request, body as Buffer, done),
    );
  },
  { name: 'infer-body-parser' },
);
