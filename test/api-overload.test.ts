// Load shedding for real: the event loop is actually blocked, and the next requests are shed with 503 and
// Retry-After while /healthz still answers; once the loop is free again, requests are served.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEnv, type TestEnv } from './api-helpers.js';

let env: TestEnv;
before(async () => {
  env = await startEnv({ env: { OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '50' } });
});
after(async () => {
  await env?.close();
});

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: this is the overload
  }
}

test('a stalled event loop sheds requests with 503 + Retry-After, then recovers', async () => {
  assert.equal((await env.app.inject({ url: '/v1/models' })).statusCode, 200);
  // under-pressure samples the loop delay on a timer: block across a few samples.
  let shed = null;
  let shedV2 = null;
  for (let i = 0; i < 40 && !(shed && shedV2); i++) {
    await new Promise((r) => setTimeout(r, 5));
    blockEventLoop(300);
    await new Promise((r) => setImmediate(r));
    const [res, v2] = await Promise.all([env.app.inject({ url: '/v1/models' }), env.app.inject({ url: '/v2' })]);
    if (res.statusCode === 503) shed = res;
    if (v2.statusCode === 503) shedV2 = v2;
  }
  assert.ok(shed, 'no request was shed while the event loop was blocked');
  assert.ok(shedV2, 'no /v2 request was shed while the event loop was blocked');
  // The Open Inference Protocol's routes answer in its own shape, with the same Retry-After.
  assert.deepEqual(Object.keys(shedV2.json()), ['error']);
  assert.match(shedV2.json().error, /overloaded/);
  assert.ok(Number(shedV2.headers['retry-after']) > 0);
  assert.equal((await env.app.inject({ url: '/v2/health/live' })).statusCode, 200, 'the v2 liveness probe is never shed');
  assert.ok(Number(shed.headers['retry-after']) > 0, 'Retry-After is set');
  const body = shed.json();
  assert.equal(body.statusCode, 503);
  assert.match(body.message, /overloaded/);
  assert.equal((await env.app.inject({ url: '/healthz' })).statusCode, 200, 'liveness is never shed');

  // Without the stall the delay falls back and requests are served again.
  let served = false;
  for (let i = 0; i < 100 && !served; i++) {
    await new Promise((r) => setTimeout(r, 20));
    served = (await env.app.inject({ url: '/v1/models' })).statusCode === 200;
  }
  assert.ok(served, 'requests are served again after the stall');
});
