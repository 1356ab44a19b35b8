// Credentials never reach the logs, whatever a serializer or a handler logs: one list for every logger.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'request.headers.authorization',
  'headers.authorization',
  'authorization',
  'req.headers["idempotency-key"]',
];
