// Names shared by the API (producer) and the workers: BullMQ queue, Redis key prefix, pub/sub channels.
// Changing any of them orphans the jobs and markers already in Redis.

/** BullMQ queue name (no ':' allowed). */
export const QUEUE_NAME = 'training';
/** BullMQ key prefix: every BullMQ key of this service starts with `bn:training:`. */
export const QUEUE_PREFIX = 'bn';

/** Our own keys live beside BullMQ's, under a sub-namespace BullMQ never uses. */
const OWN = `${QUEUE_PREFIX}:${QUEUE_NAME}:x`;

/** sha256(principal + Idempotency-Key) -> IdempotencyClaim, for IDEMPOTENCY_TTL_SECONDS. */
export const idempotencyKey = (keyDigest: string): string => `${OWN}:idem:${keyDigest}`;
/** Present once a job was cancelled by a user; value: ISO time. Read by getStatus and the processor. */
export const cancelMarkerKey = (jobId: string): string => `${OWN}:cancel:${jobId}`;
/** Final status of a queued job that was cancelled and therefore removed from BullMQ. */
export const cancelledRecordKey = (jobId: string): string => `${OWN}:cancelled:${jobId}`;

/** Pub/sub: API -> workers, message = jobId to abort. */
export const CANCEL_CHANNEL = `${OWN}:cancel-requests`;

/** Abort reasons passed to worker.cancelJob; the processor branches on them. */
export const ABORT_CANCELLED = 'cancelled';
export const ABORT_SHUTDOWN = 'shutdown';

/** failedReason of a job the processor stopped on a user's cancel starts with this (the marker says so too). */
export const CANCELLED_REASON_PREFIX = 'cancelled';

/** How long finished jobs, cancel markers and cancelled records are kept (the job's status and error). */
export const RETENTION_SECONDS = 7 * 24 * 3600;
/** How long an Idempotency-Key stands for its first request (a retry within it gets the same job). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/**
 * Entries BullMQ keeps in the queue's event stream (approximately). The stream only feeds live
 * followers (SSE, metrics), which read it as it grows; Redis runs with noeviction, so it must be bounded.
 */
export const EVENTS_MAX_LEN = 2000;
