// BullMQ TrainingQueue against a real redis-server, without a worker: submission, status (one and many),
// idempotency reservations, cancelling a queued job, the bounded event stream, and failing fast (then
// recovering) when Redis goes away or stops answering.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createBullmqTrainingQueue } from '../src/queue/bullmq-training-queue.js';
import { QueueUnavailableError, type JobEvent, type TrainingQueue } from '../src/queue/types.js';
import { resolveSpec, resolveTraining } from '../src/model/spec.js';
import { Redis } from 'ioredis';
import { IDEMPOTENCY_TTL_SECONDS, idempotencyKey } from '../src/queue/names.js';
import type { TrainingJobPayload } from '../src/schemas/job.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

function payload(epochs = 3): TrainingJobPayload {
  const training = resolveTraining({ epochs, batchSize: 32, seed: 7 });
  return {
    modelId: `m-${randomUUID()}`,
    datasetId: 'builtin:blobs',
    spec: resolveSpec({ hidden: [8], task: 'binary' }, { inputDim: 2, outputDim: 1 }, training.seed),
    training,
    submittedAt: new Date().toISOString(),
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('BullMQ training queue', () => {
  let redis: TestRedis;
  let queue: TrainingQueue;

  before(async () => {
    redis = await startTestRedis();
    queue = createBullmqTrainingQueue({ redisUrl: redis.url, attempts: 3 });
  });

  after(async () => {
    await queue.close();
    await redis.cleanup();
  });

  it('submits a job and reports it queued, with no invented progress', async () => {
    const p = payload(5);
    const jobId = randomUUID();
    await queue.submit(p, jobId);

    const status = await queue.getStatus(jobId);
    assert.ok(status);
    assert.equal(status.status, 'queued');
    assert.equal(status.modelId, p.modelId);
    assert.deepEqual(status.progress, { epoch: 0, epochs: 5, lastSavedEpoch: 0 });
    assert.equal(status.history, undefined, 'the history is the model\'s epoch log, not the queue\'s');
    assert.equal(status.attempts, 0);
    assert.ok(!Number.isNaN(Date.parse(status.createdAt)));
    assert.equal(status.finishedAt, undefined);
    assert.equal(await queue.getStatus(randomUUID()), null);
    assert.equal(await queue.cancel(randomUUID()), null);
  });

  it('queues a job id once; reads many statuses in one batch', async () => {
    const before = await queue.counts();
    const p = payload();
    const jobId = randomUUID();
    await queue.submit(p, jobId);
    await queue.submit({ ...p, modelId: 'another' }, jobId);
    assert.equal((await queue.counts()).waiting, before.waiting + 1);
    assert.equal((await queue.getStatus(jobId))?.modelId, p.modelId, 'the first submission is kept');
    const other = randomUUID();
    await queue.submit(payload(), other);
    const many = await queue.getStatuses([jobId, 'no-such-job', other]);
    assert.deepEqual([...many.keys()].sort(), [jobId, other].sort());
    assert.equal(many.get(other)?.status, 'queued');
    assert.equal((await queue.getStatuses([])).size, 0);
  });

  it('an idempotency key holds the first claim for a day; a second claim gets the first one back', async () => {
    const digest = `d-${randomUUID()}`;
    const claim = (jobId: string) => ({ bodyHash: 'h', jobId, modelId: `m-${jobId}`, seed: 7, createdAt: new Date().toISOString() });
    const first = claim('job-a');
    assert.deepEqual(await queue.reserve(digest, first), first);
    assert.deepEqual(await queue.reserve(digest, claim('job-b')), first);
    const client = new Redis(redis.url);
    try {
      const ttl = await client.ttl(idempotencyKey(digest));
      assert.ok(ttl > IDEMPOTENCY_TTL_SECONDS - 60 && ttl <= IDEMPOTENCY_TTL_SECONDS, `TTL ${ttl}`);
    } finally {
      client.disconnect();
    }
  });

  it('cancels a queued job: it ends cancelled, keeps its record and leaves the wait list', async () => {
    const p = payload(4);
    const jobId = randomUUID();
    await queue.submit(p, jobId);
    const events: JobEvent[] = [];
    const unsubscribe = await queue.subscribe(jobId, (e) => events.push(e));
    const waitingBefore = (await queue.counts()).waiting;

    const cancelled = await queue.cancel(jobId);
    assert.ok(cancelled);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.modelId, p.modelId);
    assert.ok(cancelled.finishedAt);
    assert.equal(cancelled.error, undefined);
    assert.equal((await queue.counts()).waiting, waitingBefore - 1);

    const status = await queue.getStatus(jobId);
    assert.equal(status?.status, 'cancelled');
    assert.equal(status?.progress.epochs, 4);
    // Cancelling again changes nothing.
    assert.deepEqual(await queue.cancel(jobId), status);

    const event = await until('the cancelled event', async () => events.find((e) => e.type === 'status' && e.final));
    assert.ok(event.type === 'status');
    assert.equal(event.status.status, 'cancelled');
    assert.equal(event.status.jobId, jobId);
    unsubscribe();
  });

  it('delivers status events to subscribeAll', async () => {
    const seen: { jobId: string; event: JobEvent }[] = [];
    const unsubscribe = await queue.subscribeAll((jobId, event) => seen.push({ jobId, event }));
    const jobId = randomUUID();
    await queue.submit(payload(), jobId);
    const hit = await until('a queued event', async () => seen.find((s) => s.jobId === jobId));
    assert.ok(hit.event.type === 'status' && !hit.event.final);
    assert.equal(hit.event.status.status, 'queued');
    unsubscribe();
  });

  it('fails fast with QueueUnavailableError while Redis is down and recovers on its own', async () => {
    await queue.ping();
    const port = redis.port;
    await redis.cleanup();

    for (const op of [() => queue.ping(), () => queue.submit(payload(), randomUUID()), () => queue.getStatus('x')]) {
      const t0 = Date.now();
      await assert.rejects(op(), (err: unknown) => {
        assert.ok(err instanceof QueueUnavailableError, String(err));
        assert.match(err.message, /Redis/);
        return true;
      });
      assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    }

    redis = await startTestRedis({ port });
    await until('ping after the restart', async () => ((await queue.ping()), true), 10_000);
    const jobId = randomUUID();
    await queue.submit(payload(), jobId);
    assert.equal((await queue.getStatus(jobId))?.status, 'queued');
  });
});
