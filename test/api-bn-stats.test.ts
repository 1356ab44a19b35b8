// Per-epoch BN statistics and test metrics through real components: a real worker trains real jobs on a
// real redis-server; GET /v1/models/:id/bn-stats serves epochs 0..E after retention pruned checkpoints; a
// job interrupted by a worker shutdown and resumed by the next worker logs every epoch exactly once (a
// lost last line measured again), the next epoch's drift measured against the resumed checkpoint; a job on a dataset with a test part
// records the test metrics POST /v1/models/:id/evaluate gives for the same checkpoint, one without none.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { partFromRows } from '../src/datasets/arrays.js';
import { getDatasetData, storeDataset } from '../src/datasets/dataset-service.js';
import { bnStatsOfCheckpoint } from '../src/model/layer-stats.js';
import { initBackend } from '../src/model/backend.js';
import type { BnStatsResponse } from '../src/schemas/bn-stats.js';
import type { JobStatus } from '../src/schemas/job.js';
import { startWorker, type TrainingWorker } from '../src/worker/worker.js';
import { startEnv, waitFor, type TestEnv } from './api-helpers.js';

function rows(n: number, seed: number): { features: number[][]; labels: number[] } {
  const features = Array.from({ length: n }, (_, i) => [Math.sin(i * 1.3 + seed), Math.cos(i * 0.7 + seed) * 2]);
  return { features, labels: features.map(([a, b]) => (a + 0.5 * b > 0 ? 1 : 0)) };
}

describe('BN statistics per epoch and test metrics of a job', () => {
  let env: TestEnv;
  const workers: TrainingWorker[] = [];
  const logger = pino({ level: 'silent' });
  let withTest: string;

  before(async () => {
    // The backend the training child picks (TFJS_BACKEND=auto): the products of the expected values are its own.
    await initBackend('auto');
    env = await startEnv();
    workers.push(await startWorker({ config: env.config, logger }));
    const train = rows(300, 0);
    const test = rows(90, 5);
    withTest = (await storeDataset(env.store, { train: partFromRows(train.features, train.labels), test: partFromRows(test.features, test.labels) })).id;
  });
  after(async () => {
    for (const w of workers) await w.close();
    await env.close();
  });

  async function submit(datasetId: string, training: object, batchNorm = true): Promise<{ jobId: string; modelId: string }> {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/training-jobs',
      payload: { datasetId, model: { hidden: [8, 4], task: 'binary', batchNorm: { enabled: batchNorm } }, training: { batchSize: 32, seed: 3, learningRate: 0.05, ...training } },
    });
    assert.equal(res.statusCode, 202, res.body);
    return res.json();
  }
  const status = (jobId: string, pred: (s: JobStatus) => boolean) => async () => {
    const res = await env.app.inject({ url: `/v1/training-jobs/${jobId}` });
    const s = res.json() as JobStatus;
    return res.statusCode === 200 && pred(s) ? s : undefined;
  };
  const bnStats = async (modelId: string, query = ''): Promise<BnStatsResponse> => {
    const res = await env.app.inject({ url: `/v1/models/${modelId}/bn-stats${query}` });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };

  it('serves epochs 0..E after retention pruned checkpoints, and records test metrics equal to evaluate', async () => {
    const { jobId, modelId } = await submit(withTest, { epochs: 4, validationSplit: 0.2, checkpoints: { keepLast: 1, keepBest: 1 } });
    const done = await waitFor(status(jobId, (s) => s.status !== 'queued' && s.status !== 'running'), 60_000, 'the job ends');
    assert.equal(done.status, 'completed', done.error);
    const kept = (await env.store.listCheckpoints(modelId)).map((c) => c.epoch);
    assert.ok(kept.length < 4, `retention pruned: kept ${kept}`);

    const body = await bnStats(modelId);
    assert.equal(body.modelId, modelId);
    assert.equal(body.probeRows, 240, 'the first 256 rows of the 240 training rows the validation split leaves');
    assert.deepEqual(body.quantiles, ['min', 'p10', 'median', 'p90', 'max']);
    assert.deepEqual(body.epochs.map((e) => e.epoch), [0, 1, 2, 3, 4]);
    for (const e of body.epochs) {
      assert.deepEqual(e.layers.map((l) => [l.layer, l.units, l.batchNorm]), [[0, 8, true], [1, 4, true]]);
      assert.equal(e.layers[0].meanDrift === undefined, e.epoch === 0, `drift at epoch ${e.epoch}`);
      assert.ok(e.layers[0].gamma && e.layers[0].collapsed);
    }
    // The newest checkpoint's record is its weights measured on the probe (the drift needs the epoch before's weights, pruned).
    const data = await getDatasetData(env.store, withTest);
    const last = (await env.store.getCheckpoint(modelId, 4))!;
    const { layers } = bnStatsOfCheckpoint(data!.train, { validationSplit: 0.2, separateValidation: false }, last);
    assert.deepEqual(body.epochs[4].layers.map(({ meanDrift: _m, stdDrift: _s, ...l }) => l), layers);
    assert.deepEqual((await bnStats(modelId, '?fromEpoch=3')).epochs.map((e) => e.epoch), [3, 4]);

    const evaluated = await env.app.inject({ method: 'POST', url: `/v1/models/${modelId}/evaluate`, payload: { datasetId: withTest, checkpoint: 4 } });
    assert.equal(evaluated.statusCode, 200, evaluated.body);
    const { modelId: _m, datasetId: _d, split: _s, ...want } = evaluated.json();
    assert.equal(want.rows, 90);
    assert.deepEqual(done.testMetrics, want);
    assert.deepEqual((await env.app.inject({ url: `/v1/models/${modelId}` })).json().testMetrics, want);
  });

  it('a model without BN has statistics and no BN fields; a dataset without a test part gives no test metrics; 404 for an unknown model', async () => {
    const { jobId, modelId } = await submit('builtin:blobs', { epochs: 2 }, false);
    const done = await waitFor(status(jobId, (s) => s.status !== 'queued' && s.status !== 'running'), 60_000, 'the job ends');
    assert.equal(done.status, 'completed', done.error);
    assert.equal(done.testMetrics, undefined);
    assert.equal((await env.app.inject({ url: `/v1/models/${modelId}` })).json().testMetrics, undefined);
    const body = await bnStats(modelId);
    assert.deepEqual(body.epochs.map((e) => e.epoch), [0, 1, 2]);
    assert.deepEqual(Object.keys(body.epochs[2].layers[0]).sort(), ['batchNorm', 'layer', 'mean', 'meanDrift', 'std', 'stdDrift', 'units']);
    const missing = await env.app.inject({ url: '/v1/models/mdl_nope/bn-stats' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().field, 'modelId');
    assert.equal((await env.app.inject({ url: `/v1/models/${modelId}/bn-stats?fromEpoch=-1` })).statusCode, 400);
  });

  it('a job resumed by the next worker logs every epoch once, its next epoch drifting against the resumed checkpoint', async () => {
    const { jobId, modelId } = await submit('builtin:blobs', { epochs: 500, batchSize: 16, progressEveryBatches: 1, checkpoints: { keepLast: 1000 } });
    await waitFor(status(jobId, (s) => s.progress.lastSavedEpoch >= 2), 30_000, 'two checkpoints');
    await workers.shift()!.close();
    await waitFor(status(jobId, (s) => s.status === 'queued'), 10_000, 'back in the queue');
    const saved = (await env.store.listCheckpoints(modelId)).at(-1)!.epoch;
    // A crash between the epoch log's line and the BN statistics' line, and a torn write: the next attempt
    // measures the last saved epoch again from its checkpoint (drift from the one before), the same line.
    const file = path.join(env.dataDir, 'models', modelId, 'bn-stats.jsonl');
    const lines = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean);
    assert.equal(lines.length, saved + 1);
    await fs.writeFile(file, `${lines.slice(0, -1).join('\n')}\n{"epoch":${saved},"lay`);
    workers.push(await startWorker({ config: env.config, logger }));
    await waitFor(status(jobId, (s) => s.status === 'running' && s.attempts === 2 && s.progress.lastSavedEpoch >= saved + 2), 30_000, 'progress on the next worker');
    await env.queue.cancel(jobId);
    await waitFor(status(jobId, (s) => s.status === 'cancelled'), 10_000, 'cancelled');

    const logged = (await env.store.readEpochs(modelId)).records.length;
    const epochs = (await bnStats(modelId)).epochs;
    assert.deepEqual(epochs.map((e) => e.epoch), Array.from({ length: logged + 1 }, (_, i) => i));
    const data = await getDatasetData(env.store, 'builtin:blobs');
    const [at, next] = [await env.store.getCheckpoint(modelId, saved), await env.store.getCheckpoint(modelId, saved + 1)];
    assert.deepEqual(epochs[saved + 1], bnStatsOfCheckpoint(data!.train, { validationSplit: 0, separateValidation: false }, next!, at!));
    assert.deepEqual(epochs[saved], JSON.parse(lines[saved]), 'the repaired line is the one lost');
    // The log file is one line per epoch: nothing torn, nothing repeated.
    const text = await fs.readFile(file, 'utf8');
    assert.equal(text.split('\n').length, logged + 2);
  });
});
