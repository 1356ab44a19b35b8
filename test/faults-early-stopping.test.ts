// Early stopping, a learning-rate schedule and precise BN statistics through the real service: an API
// process and worker processes sharing Redis and DATA_DIR. A job stops early and ends completed with
// `stoppedEarly` (in its status and in the final SSE event), its history holds every epoch's scheduled
// rate, retention keeps the best checkpoint by the monitored loss, the last checkpoint holds precise
// statistics and predictions use them. The same job with its worker SIGKILLed mid-run is resumed by
// another worker and decides exactly the same: the same stop, the same best epoch, the same weights.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { learningRateAt } from '../src/model/lr-schedule.js';
import type { CheckpointDocument } from '../src/schemas/checkpoint.js';
import type { ResolvedTraining } from '../src/schemas/model-spec.js';
import { readSse } from './api-helpers.js';
import { predictByHand } from './model-helpers.js';
import {
  faultFixture,
  http,
  isFinished,
  range1,
  startReady,
  submitJob,
  waitForJob,
  withServiceOutput,
  type JobStatusBody,
  type ServiceProcess,
} from './helpers/service-process.js';

const EPOCHS = 200;
const KEEP_LAST = 3;
/** Short lock and stalled-check intervals: a dead worker's job is taken over within seconds. */
const STALL_ENV = { WORKER_LOCK_DURATION_MS: '4000', WORKER_STALLED_INTERVAL_MS: '1000' };

const fixture = faultFixture();

const job = {
  datasetId: 'builtin:blobs',
  model: { hidden: [32], task: 'binary' },
  training: {
    epochs: EPOCHS,
    batchSize: 8,
    seed: 3,
    learningRate: 0.002,
    learningRateSchedule: { type: 'cosine', warmupEpochs: 2, minLearningRate: 0.0001 },
    earlyStopping: { monitor: 'valLoss', patience: 6, minDelta: 0.0005 },
    bnStatistics: 'precise',
    checkpoints: { keepLast: KEEP_LAST, keepBest: 1 },
  },
};

interface Outcome {
  status: JobStatusBody & { stoppedEarly?: { epoch: number; bestEpoch: number; monitor: string; best: number } };
  kept: number[];
  documents: Map<number, CheckpointDocument>;
}

async function outcome(api: ServiceProcess, jobId: string, modelId: string): Promise<Outcome> {
  const status = (await http(api, 'GET', `/v1/training-jobs/${jobId}`)).body;
  const model = await http(api, 'GET', `/v1/models/${modelId}`);
  const kept: number[] = model.body.checkpoints.map((c: { epoch: number }) => c.epoch);
  const documents = new Map<number, CheckpointDocument>();
  for (const epoch of kept) documents.set(epoch, (await http<CheckpointDocument>(api, 'GET', `/v1/models/${modelId}/checkpoints/${epoch}`)).body);
  return { status, kept, documents };
}

/** What trained: every epoch's metrics but its timings. */
const trained = (history: JobStatusBody['history']) => history.map(({ samplesPerSecond: _s, durationMs: _d, ...rest }) => rest);
const weights = (doc: CheckpointDocument) => doc.layers;

test('early stopping through the service: completed with stoppedEarly, the best checkpoint kept, precise statistics served; a SIGKILLed run resumes and decides the same', { timeout: 150_000 }, withServiceOutput(async (t) => {
  const { redis, dataDir } = await fixture.start();
  const common = { redisUrl: redis.url, dataDir, env: { WORKER_CONCURRENCY: '1', ...STALL_ENV } };
  const [api, worker1] = await Promise.all([
    startReady({ ...common, role: 'api', name: 'api' }),
    startReady({ ...common, role: 'worker', name: 'worker-1' }),
  ]);

  // 1. Uninterrupted, followed over SSE to the end.
  const a = await submitJob(api, job);
  const stream = await readSse(api.baseUrl, `/v1/training-jobs/${a.jobId}/events`);
  const final = stream.events.at(-1)!;
  assert.equal(final.event, 'completed', JSON.stringify(final.data).slice(0, 500));
  const straight = await outcome(api, a.jobId, a.modelId);
  const stop = straight.status.stoppedEarly;
  assert.ok(stop, `the job stopped early: ${JSON.stringify(straight.status).slice(0, 500)}`);
  assert.deepEqual((final.data as { stoppedEarly: unknown }).stoppedEarly, stop, 'the final SSE event says so too');
  t.diagnostic(`stopped at epoch ${stop.epoch}, best epoch ${stop.bestEpoch} (valLoss ${stop.best})`);
  assert.equal(straight.status.status, 'completed');
  assert.equal(stop.monitor, 'valLoss');
  assert.ok(stop.epoch >= 8 && stop.epoch < EPOCHS, `stopped at ${stop.epoch}`);
  // Progress keeps the planned epochs; the history and the last saved epoch end where training did.
  assert.equal(straight.status.progress.epochs, EPOCHS);
  assert.equal(straight.status.progress.epoch, stop.epoch);
  assert.equal(straight.status.progress.lastSavedEpoch, stop.epoch);
  assert.deepEqual(straight.status.history.map((h) => h.epoch), range1(stop.epoch));
  // The best epoch is the lowest validation loss, and retention kept it beside the last KEEP_LAST.
  const valLosses = straight.status.history.map((h) => h.valLoss as number);
  assert.equal(stop.best, Math.min(...valLosses));
  assert.equal(valLosses[stop.bestEpoch - 1], stop.best);
  const expectKept = [...new Set([stop.bestEpoch, ...range1(stop.epoch).slice(-KEEP_LAST)])].sort((x, y) => x - y);
  assert.deepEqual(straight.kept, expectKept);
  assert.equal(straight.documents.get(stop.bestEpoch)!.metrics.valLoss, stop.best);

  // Every epoch ran at its scheduled rate (from the resolved options the model record serves).
  const training: ResolvedTraining = (await http(api, 'GET', `/v1/models/${a.modelId}`)).body.training;
  assert.deepEqual(training.learningRateSchedule, { type: 'cosine', stepEpochs: 10, factor: 0.1, minLearningRate: 0.0001, warmupEpochs: 2 });
  assert.deepEqual(
    straight.status.history.map((h) => h.learningRate),
    range1(stop.epoch).map((e) => learningRateAt(training.learningRateSchedule, 0.002, e, EPOCHS)),
  );

  // The last checkpoint holds precise statistics and says so; the others the moving averages.
  const last = straight.documents.get(stop.epoch)!;
  assert.equal(last.bnStatistics, 'precise');
  for (const [epoch, doc] of straight.documents) if (epoch !== stop.epoch) assert.equal(doc.bnStatistics, 'ema', `epoch ${epoch}`);
  // Predictions of the latest checkpoint use them: the served answer is the hand formula with its statistics.
  for (const x of [[0.1, 0.2], [0.5, -0.3], [1.2, 0.4]]) {
    const p = await http(api, 'POST', `/v1/models/${a.modelId}/predict`, { x });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.checkpoint, stop.epoch);
    const [want] = predictByHand(last.layers, x);
    assert.ok(Math.abs(p.body.y[0] - want) <= 1e-6, `${p.body.y[0]} vs ${want}`);
  }

  // 2. The same job, its worker SIGKILLed mid-run; another worker resumes it.
  const b = await submitJob(api, job);
  const atKill = await waitForJob(api, b.jobId, (s) => s.progress.lastSavedEpoch >= 2 || isFinished(s), 30_000, 20);
  assert.equal(atKill.status, 'running', `the job must still run when the worker is killed: ${JSON.stringify(atKill.progress)}`);
  await worker1.stop('SIGKILL');
  const killedAfter = (await http(api, 'GET', `/v1/training-jobs/${b.jobId}`)).body.progress.lastSavedEpoch;
  assert.ok(killedAfter < stop.epoch, `killed after epoch ${killedAfter}, before the stop at ${stop.epoch}`);
  const worker2 = await startReady({ ...common, role: 'worker', name: 'worker-2' });
  const done = await waitForJob(api, b.jobId, isFinished, 60_000, 100);
  assert.equal(done.status, 'completed', `${done.error ?? ''}\n${worker2.output().slice(-3000)}`);
  assert.ok(done.attempts >= 2, `attempts ${done.attempts}: it was resumed`);
  t.diagnostic(`killed after epoch ${killedAfter}; resumed and stopped at ${(done as Outcome['status']).stoppedEarly?.epoch}`);

  const resumed = await outcome(api, b.jobId, b.modelId);
  assert.deepEqual(resumed.status.stoppedEarly, stop, 'the resumed run stops where the uninterrupted one did');
  assert.deepEqual(trained(resumed.status.history), trained(straight.status.history));
  assert.deepEqual(resumed.kept, straight.kept);
  for (const epoch of straight.kept) {
    const [x, y] = [resumed.documents.get(epoch)!, straight.documents.get(epoch)!];
    assert.deepEqual(weights(x), weights(y), `checkpoint ${epoch}: the same weights and statistics, bit for bit`);
    assert.equal(x.bnStatistics, y.bnStatistics);
  }

  const stopped = await Promise.all([worker2.stop('SIGTERM'), api.stop('SIGTERM')]);
  for (const s of stopped) assert.equal(s.code, 0, 'clean exit on SIGTERM');
}));
