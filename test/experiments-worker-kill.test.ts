// Fault: the worker is SIGKILLed in the middle of an experiment. An API process and a worker process
// (separate roles, shared Redis and DATA_DIR); a new worker takes the killed one's variant over once its
// lock has expired, and the experiment still completes, every variant with every epoch exactly once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faultFixture, http, range1, sleep, startReady, withServiceOutput } from './helpers/service-process.js';

const EPOCHS = 20;
/** A dead worker's job is taken over once its lock expired and a stalled-jobs check ran: short values keep this quick. */
const STALL_ENV = { WORKER_LOCK_DURATION_MS: '4000', WORKER_STALLED_INTERVAL_MS: '1000' };

const fixture = faultFixture();

interface Variant {
  name: string;
  jobId: string;
  status: string;
  progress: { lastSavedEpoch: number };
  history: { epoch: number }[];
}

test('a worker SIGKILLed mid-experiment: the experiment still completes, every variant with epochs 1..N', { timeout: 120_000 }, withServiceOutput(async (t) => {
  const { redis, dataDir } = await fixture.start();
  const common = { redisUrl: redis.url, dataDir, env: { WORKER_CONCURRENCY: '1', ...STALL_ENV } };
  const [api, worker1] = await Promise.all([startReady({ ...common, role: 'api', name: 'api' }), startReady({ ...common, role: 'worker', name: 'worker-1' })]);

  const created = await http(api, 'POST', '/v1/experiments', {
    datasetId: 'builtin:blobs',
    base: { model: { hidden: [16], task: 'binary' }, training: { epochs: EPOCHS, batchSize: 8, checkpoints: { keepLast: 1000 } } },
    variants: [{ name: 'no BN', model: { batchNorm: { enabled: false } } }, { name: 'BN' }],
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const { experimentId } = created.body;
  const read = async () => (await http<{ status: string; variants: Variant[] }>(api, 'GET', `/v1/experiments/${experimentId}`)).body;

  // The kill, while the first variant trains (the second waits: one job at a time).
  let before = await read();
  while (before.variants[0].progress.lastSavedEpoch < 2 && before.status !== 'completed') {
    await sleep(20);
    before = await read();
  }
  assert.equal(before.variants[0].status, 'running', 'the first variant still trains at the kill');
  const kill = await worker1.stop('SIGKILL');
  assert.equal(kill.signal, 'SIGKILL');
  t.diagnostic(`killed at epoch ${before.variants[0].progress.lastSavedEpoch} of the first variant`);

  await startReady({ ...common, role: 'worker', name: 'worker-2' });
  const deadline = Date.now() + 90_000;
  let end = await read();
  while (!['completed', 'failed', 'cancelled'].includes(end.status) && Date.now() < deadline) {
    await sleep(250);
    end = await read();
  }
  assert.equal(end.status, 'completed', JSON.stringify(end.variants.map((v) => [v.name, v.status])));
  for (const v of end.variants) {
    assert.equal(v.status, 'completed', v.name);
    assert.deepEqual(v.history.map((h) => h.epoch), range1(EPOCHS), `${v.name}: every epoch once, in order`);
  }
  const resumed = (await http(api, 'GET', `/v1/training-jobs/${end.variants[0].jobId}`)).body;
  assert.ok(resumed.attempts >= 2, `the killed variant was started again (attempts ${resumed.attempts})`);
}));
