// Readiness and warm-up: a model reports ready on /v2 only once its engine has loaded it and answered the
// probe prediction, asking loads it (once, however many ask), the first inference after that loads
// nothing, and a model its engine cannot compute is never ready nor served. The engines here wrap the real
// folded engine to count, hold or break its loads (fault injection around the component under test, the
// model cache, which is real).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEnv, waitFor, type TestEnv } from './api-helpers.js';
import { putExactModel } from './helpers/exact-checkpoint.js';
import { countingEngine } from './helpers/counting-engine.js';

const M = 'mdl_warm';
const infer = '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}';

const { engine, state } = countingEngine(M);
let env: TestEnv;

before(async () => {
  env = await startEnv({ env: { RATE_LIMIT_MAX: '0' }, inference: engine });
  await putExactModel(env.store, M, [0, 0.25, 0.5]);
});

after(async () => {
  await env?.close();
});

const get = (url: string) => env.app.inject({ url });
const post = (url: string, payload: string) => env.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });

describe('warm-up through model ready', () => {
  test('ready loads and probes the newest version; the first inference then loads nothing', async () => {
    assert.equal(env.app.modelCache.peek(M, 3), undefined);
    const ready = await get(`/v2/models/${M}/ready`);
    assert.equal(ready.statusCode, 200, ready.body);
    assert.equal(state.loads, 1);
    assert.ok(env.app.modelCache.peek(M, 3), 'epoch 3 is in the cache after ready');
    const res = await post(`/v2/models/${M}/infer`, infer);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().model_version, '3');
    assert.equal(state.loads, 1, 'the inference found the model loaded');
  });

  test('ready answers only once the load and probe are done, and concurrent asks share one load', async () => {
    const before = state.loads;
    let release!: () => void;
    state.gate = new Promise<void>((r) => (release = r));
    const answered: number[] = [];
    const asks = [0, 1, 2].map((i) => get(`/v2/models/${M}/versions/1/ready`).then((res) => (answered.push(i), res)));
    try {
      // The engine is asked (after the checkpoint is read); the requests then run as far as they can.
      await waitFor(async () => state.loads > before, 10_000, 'the engine to be asked to load');
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      assert.deepEqual(answered, [], 'no ready answer while the engine is still loading');
      assert.equal(state.loads, before + 1, 'one load for three asks');
    } finally {
      state.gate = undefined;
      release();
    }
    for (const res of await Promise.all(asks)) assert.equal(res.statusCode, 200, res.body);
    assert.equal(state.loads, before + 1);
  });

  test('ModelCache.warm resolves with the epoch it made ready', async () => {
    assert.equal(await env.app.modelCache.warm(M, 'latest'), 3);
    assert.equal(await env.app.modelCache.warm(M, 2), 2);
    assert.ok(env.app.modelCache.peek(M, 2));
    await assert.rejects(() => env.app.modelCache.warm('mdl_nope', 'latest'), (err: { statusCode?: number }) => err.statusCode === 404);
  });
});

describe('a model its engine cannot compute', () => {
  for (const broken of ['nan', 'throw'] as const) {
    test(`(${broken === 'nan' ? 'answers NaN' : 'throws'}) is never ready nor served, on v2 and v1, and is tried again next time`, async () => {
      // A fresh app: its cache has not loaded anything yet.
      const fresh = countingEngine(M);
      fresh.state.broken = broken;
      const local = await startEnv({ env: { RATE_LIMIT_MAX: '0' }, inference: fresh.engine });
      try {
        await putExactModel(local.store, M, [0]);
        const reason = broken === 'nan' ? /it answered \[null,null,null\] for a row of zeros/ : /it threw: session run failed/;
        const ready = await local.app.inject({ url: `/v2/models/${M}/ready` });
        assert.equal(ready.statusCode, 400, ready.body);
        assert.match(ready.json().error, /not ready: model mdl_warm epoch 1 cannot be served by the folded engine/);
        assert.match(ready.json().error, reason);
        const v2 = await local.app.inject({ method: 'POST', url: `/v2/models/${M}/infer`, payload: infer, headers: { 'content-type': 'application/json' } });
        assert.equal(v2.statusCode, 503, v2.body);
        assert.match(v2.json().error, reason);
        const v1 = await local.app.inject({ method: 'POST', url: `/v1/models/${M}/predict`, payload: { x: [1, 2] } });
        assert.equal(v1.statusCode, 503, v1.body);
        assert.match(v1.json().message, reason);
        assert.equal(local.app.modelCache.peek(M, 1), undefined, 'nothing was cached');
        assert.equal(fresh.state.loads, 3, 'every ask tried to load it again');
      } finally {
        await local.close();
      }
    });
  }
});
