// Aliases: the routes, the built-in latest and best, resolution on v1, v2 and checkpoint downloads, the
// interplay with retention, warm-up when an alias moves and when the API starts, and moves under load from
// a real HTTP client against two API instances sharing one DATA_DIR (two processes' caches and stores).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/api/app.js';
import { ModelCache, REVALIDATE_MS } from '../src/api/plugins/app/model-cache.js';
import { createFoldedEngine } from '../src/inference/index.js';
import { createFsStore } from '../src/store/fs-store.js';
import { bestCheckpoint } from '../src/store/best-checkpoint.js';
import type { Config } from '../src/config/config.js';
import type { WarmUpReport } from '../src/api/plugins/app/alias-warm-up.js';
import type { InferenceEngine } from '../src/inference/types.js';
import { startEnv, waitFor, type TestEnv } from './api-helpers.js';
import { putExactModel } from './helpers/exact-checkpoint.js';
import { countingEngine, gate } from './helpers/counting-engine.js';

// exactCheckpoint: x = [1, 2] gives y = [8.5, 1, 9.5 + bias], so the epochs' biases tell them apart.
const BIASES = [0, 0.25, 0.5, 0.75];
const y = (epoch: number) => [8.5, 1, 9.5 + BIASES[epoch - 1]];
// Epoch 2 has the lowest valLoss, epoch 3 the lowest loss.
const METRICS = [
  { loss: 0.9, valLoss: 0.8 },
  { loss: 0.7, valLoss: 0.3 },
  { loss: 0.2, valLoss: 0.5 },
  { loss: 0.4, valLoss: 0.6 },
];
const X = [1, 2];

/** A v1 answer {y, checkpoint} from `epoch`, with its values (v1 answers the engine's float64 values: within 1e-7). */
function assertV1(body: { y: number[]; checkpoint: number }, epoch: number, what = `epoch ${epoch}`): void {
  assert.equal(body.checkpoint, epoch, what);
  assert.equal(body.y.length, 3, what);
  body.y.forEach((v, i) => assert.ok(Math.abs(v - y(epoch)[i]) < 1e-6, `${what}: y[${i}] = ${v}, epoch ${epoch} gives ${y(epoch)[i]}`));
}
const INFER = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: X }] });

const json = (app: FastifyInstance) => ({
  get: (url: string) => app.inject({ url }),
  put: (url: string, payload: object) => app.inject({ method: 'PUT', url, payload }),
  del: (url: string) => app.inject({ method: 'DELETE', url }),
  predict: (modelId: string, ref: string) => app.inject({ method: 'POST', url: `/v1/models/${modelId}/predict?checkpoint=${ref}`, payload: { x: X } }),
  infer: (modelId: string, version: string, body = INFER) =>
    app.inject({ method: 'POST', url: `/v2/models/${modelId}/versions/${version}/infer`, payload: body, headers: { 'content-type': 'application/json' } }),
});

/** A second API instance over the same DATA_DIR and Redis: its own store and model cache, as another process has. */
async function anotherApi(env: TestEnv, config: Partial<Config> = {}, inference?: InferenceEngine): Promise<FastifyInstance> {
  const app = await buildApp({
    config: { ...env.config, ...config },
    store: await createFsStore(env.dataDir),
    queue: env.queue,
    inference: inference ?? createFoldedEngine(),
  });
  await app.ready();
  return app;
}

describe('alias routes and resolution', () => {
  const M = 'mdl_alias';
  let env: TestEnv;
  let api: ReturnType<typeof json>;

  before(async () => {
    env = await startEnv({ env: { RATE_LIMIT_MAX: '0' } });
    api = json(env.app);
    await putExactModel(env.store, M, BIASES, METRICS);
  });
  after(async () => {
    await env?.close();
  });

  test('GET /v1/models/:id lists the built-in latest and best; each has its GET', async () => {
    assert.deepEqual((await api.get(`/v1/models/${M}`)).json().aliases, { latest: 4, best: 2 });
    const latest = await api.get(`/v1/models/${M}/aliases/latest`);
    assert.equal(latest.statusCode, 200, latest.body);
    assert.deepEqual(latest.json(), { modelId: M, alias: 'latest', checkpoint: 4, builtIn: true });
    assert.deepEqual((await api.get(`/v1/models/${M}/aliases/best`)).json(), { modelId: M, alias: 'best', checkpoint: 2, builtIn: true });
  });

  test('PUT sets and moves an alias; v1, v2 and downloads accept it; DELETE forgets it at once', async () => {
    const set = await api.put(`/v1/models/${M}/aliases/prod`, { checkpoint: 1 });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(set.json(), { modelId: M, alias: 'prod', checkpoint: 1, builtIn: false });
    assert.deepEqual((await api.get(`/v1/models/${M}`)).json().aliases, { prod: 1, latest: 4, best: 2 });
    assert.deepEqual((await api.get(`/v1/models/${M}/aliases/prod`)).json(), { modelId: M, alias: 'prod', checkpoint: 1, builtIn: false });

    const v1 = await api.predict(M, 'prod');
    assert.equal(v1.statusCode, 200, v1.body);
    assertV1(v1.json(), 1);
    for (const [version, epoch] of [['prod', 1], ['best', 2], ['latest', 4], ['3', 3]] as const) {
      const v2 = await api.infer(M, version);
      assert.equal(v2.statusCode, 200, `${version}: ${v2.body}`);
      assert.equal(v2.json().model_version, String(epoch), version);
      assert.deepEqual(v2.json().outputs[0].data, y(epoch), version);
    }
    // A body may name the version as the path does, or by its epoch.
    for (const named of ['prod', '1']) {
      const body = JSON.stringify({ ...JSON.parse(INFER), model_version: named });
      assert.equal((await api.infer(M, 'prod', body)).statusCode, 200, named);
    }
    const metadata = await api.get(`/v2/models/${M}/versions/prod`);
    assert.equal(metadata.statusCode, 200, metadata.body);
    assert.deepEqual(metadata.json().versions, ['1', '2', '3', '4'], 'aliases name versions; they are not listed as versions');
    assert.equal((await api.get(`/v2/models/${M}/versions/prod/ready`)).statusCode, 200);
    assert.equal((await api.get(`/v1/models/${M}/checkpoints/prod`)).json().epoch, 1);
    assert.equal((await api.get(`/v1/models/${M}/checkpoints/best`)).json().epoch, 2);
    assert.equal((await api.get(`/v1/models/${M}/checkpoints/prod/model.onnx`)).statusCode, 200);

    // A name as the target: the alias keeps the epoch it names now.
    assert.equal((await api.put(`/v1/models/${M}/aliases/prod`, { checkpoint: 'best' })).json().checkpoint, 2);
    assert.equal((await api.predict(M, 'prod')).json().checkpoint, 2, 'this process follows the move at once');
    assert.equal((await api.put(`/v1/models/${M}/aliases/staging`, { checkpoint: 'prod' })).json().checkpoint, 2);
    assert.deepEqual(await env.store.getAliases(M), { prod: 2, staging: 2 });

    assert.equal((await api.del(`/v1/models/${M}/aliases/prod`)).statusCode, 204);
    const gone = await api.predict(M, 'prod');
    assert.equal(gone.statusCode, 404, gone.body);
    assert.match(gone.json().message, /has no alias "prod"/);
    const goneV2 = await api.infer(M, 'prod');
    assert.equal(goneV2.statusCode, 404);
    assert.match(goneV2.json().error, /has no alias "prod"/);
    assert.equal((await api.del(`/v1/models/${M}/aliases/prod`)).statusCode, 404);
    assert.deepEqual((await api.get(`/v1/models/${M}`)).json().aliases, { staging: 2, latest: 4, best: 2 });
  });

  test('latest and best cannot be set or deleted; a name is never a number', async () => {
    for (const name of ['latest', 'best']) {
      const put = await api.put(`/v1/models/${M}/aliases/${name}`, { checkpoint: 1 });
      assert.equal(put.statusCode, 400, put.body);
      assert.match(put.json().message, new RegExp(`${name} is built in`));
      assert.equal((await api.del(`/v1/models/${M}/aliases/${name}`)).statusCode, 400);
    }
    const digits = await api.put(`/v1/models/${M}/aliases/12`, { checkpoint: 1 });
    assert.equal(digits.statusCode, 400, digits.body);
    assert.equal(digits.json().field, 'alias');
  });

  test('best: the lowest valLoss with a validation split, else the lowest loss, the newer epoch on a tie', async () => {
    const m = (loss: number, valLoss?: number) => ({ loss, samplesPerSecond: 1, durationMs: 1, ...(valLoss !== undefined && { valLoss }) });
    assert.equal(bestCheckpoint([]), null);
    assert.equal(bestCheckpoint(METRICS.map((x, i) => ({ epoch: i + 1, metrics: m(x.loss, x.valLoss) }))), 2);
    assert.equal(bestCheckpoint(METRICS.map((x, i) => ({ epoch: i + 1, metrics: m(x.loss) }))), 3);
    assert.equal(bestCheckpoint([{ epoch: 1, metrics: m(0.2) }, { epoch: 2, metrics: m(0.2) }, { epoch: 3, metrics: m(0.3) }]), 2);
    assert.equal(bestCheckpoint([{ epoch: 1, metrics: m(NaN) }, { epoch: 2, metrics: m(5) }]), 2, 'a non-finite loss is never best');

    // Through the store and the API: the model without a validation split, and after retention.
    const noVal = 'mdl_noval';
    await putExactModel(env.store, noVal, BIASES, [{ loss: 0.5 }, { loss: 0.2 }, { loss: 0.2 }, { loss: 0.9 }]);
    assert.equal(await env.store.resolveEpoch(noVal, 'best'), 3);
    assert.deepEqual(await env.store.pruneCheckpoints(noVal, { keepLast: 1, keepBest: 1, by: 'loss' }), [1, 2]);
    assert.equal(await env.store.resolveEpoch(noVal, 'best'), 3, 'retention keeps the checkpoint best names');
    assert.equal((await api.predict(noVal, 'best')).json().checkpoint, 3);
  });

  test('an aliased checkpoint outlives retention; a pruned one cannot be aliased', async () => {
    const kept = 'mdl_kept';
    await putExactModel(env.store, kept, BIASES);
    assert.equal((await api.put(`/v1/models/${kept}/aliases/keep`, { checkpoint: 1 })).statusCode, 200);
    assert.deepEqual(await env.store.pruneCheckpoints(kept, { keepLast: 1, keepBest: 0, by: 'loss' }), [2, 3]);
    assert.deepEqual((await env.store.listCheckpoints(kept)).map((c) => c.epoch), [1, 4]);
    assertV1((await api.predict(kept, 'keep')).json(), 1);

    const pruned = await api.put(`/v1/models/${kept}/aliases/other`, { checkpoint: 2 });
    assert.equal(pruned.statusCode, 409, pruned.body);
    assert.equal(pruned.json().field, 'checkpoint');
    assert.match(pruned.json().message, /epoch 2 was pruned by retention/);
    const unsaved = await api.put(`/v1/models/${kept}/aliases/other`, { checkpoint: 5 });
    assert.equal(unsaved.statusCode, 409);
    assert.match(unsaved.json().message, /epoch 5 is not saved \(the newest is 4\)/);
    assert.deepEqual(await env.store.getAliases(kept), { keep: 1 }, 'the refused aliases were not written');
  });

  test('a model whose lock another process holds answers 503 with Retry-After, and the alias is not written', async () => {
    const busy = 'mdl_busy';
    await putExactModel(env.store, busy, BIASES);
    // What a live process holding the lock leaves: a fresh lock file in the model's directory.
    const lockFile = path.join(env.dataDir, 'models', busy, '.lock');
    await fs.writeFile(lockFile, JSON.stringify({ pid: 1, at: new Date().toISOString() }), { flag: 'wx' });
    try {
      const res = await api.put(`/v1/models/${busy}/aliases/prod`, { checkpoint: 1 });
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.headers['retry-after'], '1');
      assert.match(res.json().message, /is being changed by another process .*; retry in 1 s/);
    } finally {
      await fs.rm(lockFile, { force: true });
    }
    assert.deepEqual(await env.store.getAliases(busy), {});
    assert.equal((await api.put(`/v1/models/${busy}/aliases/prod`, { checkpoint: 1 })).statusCode, 200);
  });

  test('another process follows a move within REVALIDATE_MS, and asks the store again when the old checkpoint was pruned', async (t) => {
    const moved = 'mdl_moved';
    await putExactModel(env.store, moved, BIASES);
    await env.store.setAlias(moved, 'prod', 1);
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    // The other process: its own store over the same DATA_DIR, its own cache.
    const cache = new ModelCache(await createFsStore(env.dataDir), createFoldedEngine(), 8);
    await cache.get(moved, 1); // epoch 1 is loaded and checked now
    t.mock.timers.tick(REVALIDATE_MS - 100);
    assert.equal((await cache.get(moved, 'prod')).model.epoch, 1); // resolved now: the name is fresher than the load
    // This process moves the alias; retention prunes the old target (it is no longer aliased).
    await env.store.setAlias(moved, 'prod', 2);
    assert.deepEqual(await env.store.pruneCheckpoints(moved, { keepLast: 1, keepBest: 0, by: 'loss' }), [1, 3]);
    t.mock.timers.tick(200);
    // The name is still trusted, the loaded checkpoint is due for its check and is gone: no error, the new target.
    assert.equal(cache.peek(moved, 'prod'), undefined);
    assert.equal((await cache.get(moved, 'prod')).model.epoch, 2);
    assert.equal(cache.peek(moved, 'prod')?.model.epoch, 2);
  });
});

describe('warm-up', () => {
  const M = 'mdl_warm_alias';
  const { engine, state } = countingEngine(M);
  let env: TestEnv;
  let api: ReturnType<typeof json>;

  before(async () => {
    env = await startEnv({ env: { RATE_LIMIT_MAX: '0' }, inference: engine });
    api = json(env.app);
    await putExactModel(env.store, M, BIASES);
  });
  after(async () => {
    await env?.close();
  });

  test('PUT loads and probes the new target before it answers; the first prediction by the alias loads nothing', async () => {
    assert.equal(state.loads, 0);
    const put = await api.put(`/v1/models/${M}/aliases/prod`, { checkpoint: 2 });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(state.loads, 1, 'loaded by the PUT');
    assert.ok(env.app.modelCache.peek(M, 'prod'), 'served from memory at once');
    assertV1((await api.predict(M, 'prod')).json(), 2);
    assert.equal((await api.infer(M, 'prod')).json().model_version, '2');
    assert.equal(state.loads, 1, 'the predictions loaded nothing');
  });

  test('until the new target is loaded, predictions by the alias answer from the old one', async () => {
    const held = gate();
    state.gate = held.promise;
    let answered = false;
    const put = api.put(`/v1/models/${M}/aliases/prod`, { checkpoint: 4 }).then((res) => ((answered = true), res));
    try {
      await waitFor(async () => state.active > 0, 10_000, 'the new target to be loading');
      for (let i = 0; i < 3; i++) assertV1((await api.predict(M, 'prod')).json(), 2);
      assert.equal(answered, false, 'the PUT waits for the load');
      assert.deepEqual(await env.store.getAliases(M), { prod: 2 }, 'the alias has not moved yet');
    } finally {
      state.gate = undefined;
      held.open();
    }
    assert.equal((await put).statusCode, 200);
    assertV1((await api.predict(M, 'prod')).json(), 4);
  });

  test('a target its engine cannot serve is refused (503) and the alias stays where it was', async () => {
    state.broken = 'nan';
    state.brokenEpoch = 3;
    try {
      const put = await api.put(`/v1/models/${M}/aliases/prod`, { checkpoint: 3 });
      assert.equal(put.statusCode, 503, put.body);
      assert.match(put.json().message, /epoch 3 cannot be served/);
    } finally {
      state.broken = undefined;
      state.brokenEpoch = undefined;
    }
    assert.deepEqual(await env.store.getAliases(M), { prod: 4 });
    assert.equal((await api.predict(M, 'prod')).json().checkpoint, 4);
  });

  test('at start every aliased checkpoint is loaded in the background, bounded, never delaying listen; the first requests load nothing', async () => {
    await env.store.setAlias(M, 'staging', 1);
    await env.store.setAlias(M, 'canary', 1); // one checkpoint, two names: loaded once
    const restarted = countingEngine(M);
    const held = gate();
    restarted.state.gate = held.promise;
    const app = await anotherApi(env, { WARM_UP_CONCURRENCY: 1 }, restarted.engine);
    try {
      // ready() has resolved with the first load held; listen answers too.
      await app.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      await waitFor(async () => restarted.state.active > 0, 10_000, 'the warm-up to start loading');
      assert.equal(restarted.state.loads, 1, 'one load at a time (WARM_UP_CONCURRENCY=1)');
      held.open();
      assert.deepEqual(await app.aliasWarmUp.done(), { checkpoints: 2, warmed: 2, failed: 0, skipped: 0 });
      assert.equal(restarted.state.loads, 2);
      assert.equal(restarted.state.maxActive, 1);
      for (const [alias, epoch] of [['prod', 4], ['staging', 1], ['canary', 1]] as const) {
        const res = await fetch(`${base}/v1/models/${M}/predict?checkpoint=${alias}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ x: X }),
        });
        assertV1(await res.json(), epoch, alias);
      }
      assert.equal(restarted.state.loads, 2, 'the first requests after the restart loaded nothing');
    } finally {
      held.open();
      await app.close();
    }
  });

  test('at start: at most MODEL_CACHE_SIZE checkpoints; WARM_UP_CONCURRENCY=0 turns it off', async () => {
    const cases: [Partial<Config>, WarmUpReport][] = [
      [{ MODEL_CACHE_SIZE: 1 }, { checkpoints: 2, warmed: 1, failed: 0, skipped: 1 }],
      [{ WARM_UP_CONCURRENCY: 0 }, { checkpoints: 0, warmed: 0, failed: 0, skipped: 0 }],
    ];
    for (const [config, report] of cases) {
      const counted = countingEngine(M);
      const app = await anotherApi(env, config, counted.engine);
      try {
        assert.deepEqual(await app.aliasWarmUp.done(), report, JSON.stringify(config));
        assert.equal(counted.state.loads, report.warmed, JSON.stringify(config));
      } finally {
        await app.close();
      }
    }
  });
});

describe('moves under load', () => {
  const M = 'mdl_load';
  let env: TestEnv;
  let other: FastifyInstance;

  before(async () => {
    env = await startEnv({ env: { RATE_LIMIT_MAX: '0' } });
    await putExactModel(env.store, M, BIASES);
    other = await anotherApi(env);
  });
  after(async () => {
    await other?.close();
    await env?.close();
  });

  test('predictions on v1 and v2, on this API and another, while an alias moves between two checkpoints: no error, every answer one of the two', { timeout: 120_000 }, async (t) => {
    const listen = async (app: FastifyInstance) => {
      await app.listen({ host: '127.0.0.1', port: 0 });
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    };
    const here = await listen(env.app);
    const there = await listen(other);
    const put = (epoch: number) =>
      fetch(`${here}/v1/models/${M}/aliases/live`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ checkpoint: epoch }) });
    assert.equal((await put(1)).status, 200);

    /** One prediction by the alias: the epoch that answered, checked against its output values. */
    const predict = async (base: string, protocol: 'v1' | 'v2'): Promise<number> => {
      const res =
        protocol === 'v1'
          ? await fetch(`${base}/v1/models/${M}/predict?checkpoint=live`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: X }) })
          : await fetch(`${base}/v2/models/${M}/versions/live/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: INFER });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${protocol} ${base}: ${res.status} ${text}`);
      const body = JSON.parse(text);
      const epoch = protocol === 'v1' ? body.checkpoint : Number(body.model_version);
      if (epoch !== 1 && epoch !== 2) throw new Error(`${protocol} ${base}: answered from epoch ${epoch}`);
      if (protocol === 'v1') assertV1(body, epoch, `v1 ${base}`);
      else assert.deepEqual(body.outputs[0].data, y(epoch), `v2 ${base}: the values of epoch ${epoch}`);
      return epoch;
    };

    let moving = true;
    const errors: string[] = [];
    const seen = { here: new Set<number>(), there: new Set<number>() };
    let requests = 0;
    const hammer = async (base: string, protocol: 'v1' | 'v2') => {
      while (moving) {
        try {
          seen[base === here ? 'here' : 'there'].add(await predict(base, protocol));
          requests++;
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    };
    const clients = [here, there].flatMap((base) => (['v1', 'v2'] as const).map((protocol) => hammer(base, protocol)));

    const MOVES = 20;
    let moves = 0;
    try {
      for (let k = 0; k < MOVES; k++) {
        const target = k % 2 === 0 ? 2 : 1;
        const res = await put(target);
        assert.equal(res.status, 200, await res.text());
        moves++;
        // The process that moved it answers from the new checkpoint at once.
        assert.equal(await predict(here, 'v1'), target, `move ${k}: read after the move`);
        assert.equal(await predict(here, 'v2'), target, `move ${k}: read after the move (v2)`);
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      moving = false;
      await Promise.all(clients);
    }
    assert.deepEqual(errors.slice(0, 5), [], `${errors.length} of ${requests + errors.length} predictions failed`);
    assert.equal(moves, MOVES);
    assert.deepEqual([...seen.here].sort(), [1, 2], 'the concurrent clients of the moving process saw both checkpoints');
    assert.ok(requests >= 40, `only ${requests} concurrent predictions`);
    assert.ok(seen.there.size > 0 && [...seen.there].every((e) => e === 1 || e === 2));
    t.diagnostic(`${requests} concurrent predictions during ${moves} moves; the other API answered from epochs ${[...seen.there].sort()}`);

    // The other API follows the last move within REVALIDATE_MS.
    assert.equal((await put(2)).status, 200);
    await waitFor(async () => (await predict(there, 'v1')) === 2 && (await predict(there, 'v2')) === 2, 10_000, 'the other API to follow the move');
  });
});
