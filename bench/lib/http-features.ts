/** The service's per-request features bench/bare-server.ts can add to the bare route (see there). */
export const FEATURES = ['route', 'logger', 'request-id', 'headers', 'metrics', 'pressure', 'errors'] as const;
