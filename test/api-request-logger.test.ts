// The per-request child logger is created on the request's first log line, and its lines are those an
// eager pino child writes: same bindings, level, redaction and nesting.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { DeferredChildLogger } from '../src/api/deferred-child-logger.js';
import { putTrainedModel, startEnv, type TestEnv } from './api-helpers.js';

function capture(level = 'trace'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      out.push(String(chunk));
      cb();
    },
  });
  const logger = pino({ level, redact: { paths: ['secret'], censor: '[redacted]' } }, sink);
  return {
    logger,
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const { time: _time, ...rest } = JSON.parse(l) as Record<string, unknown>;
          return rest;
        }),
  };
}

/** Counts the children a logger creates. */
function countChildren(logger: Logger): { calls: () => number } {
  let n = 0;
  const original = logger.child.bind(logger);
  logger.child = ((...args: Parameters<Logger['child']>) => {
    n++;
    return original(...args);
  }) as Logger['child'];
  return { calls: () => n };
}

describe('DeferredChildLogger', () => {
  test('no pino child until the first line; then exactly one', () => {
    const { logger } = capture();
    const spy = countChildren(logger);
    const log = new DeferredChildLogger(logger, { reqId: 'r-1' }, {});
    assert.equal(spy.calls(), 0);
    log.info('one');
    log.warn('two');
    log.error({ err: new Error('boom') }, 'three');
    assert.equal(spy.calls(), 1);
  });

  test('writes what an eager child writes, at every level, with redaction and nested children', () => {
    const eager = capture();
    const deferred = capture();
    const write = (log: { [k: string]: any }) => {
      for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const) log[level]({ secret: 's3cret', n: 1 }, `${level} %s`, 'arg');
      log.child({ component: 'x' }).info('nested');
    };
    write(eager.logger.child({ reqId: 'r-2' }, {}));
    write(new DeferredChildLogger(deferred.logger, { reqId: 'r-2' }, {}));
    assert.deepEqual(deferred.lines(), eager.lines());
    assert.equal(deferred.lines().length, 7);
    assert.ok(deferred.lines().every((l) => l.reqId === 'r-2' && (l.secret === undefined || l.secret === '[redacted]')));
  });

  test('level reads and sets the child level only', () => {
    const { logger, lines } = capture('info');
    const log = new DeferredChildLogger(logger, { reqId: 'r-3' }, { level: 'warn' });
    assert.equal(log.level, 'warn');
    log.info('dropped');
    log.level = 'debug';
    log.debug('kept');
    assert.equal(logger.level, 'info');
    assert.deepEqual(
      lines().map((l) => l.msg),
      ['kept'],
    );
  });
});

describe('request logging through the app', () => {
  let env: TestEnv;
  let lines: () => Record<string, unknown>[];
  before(async () => {
    const c = capture('info');
    lines = c.lines;
    env = await startEnv({ logger: c.logger, env: { RATE_LIMIT_MAX: '0' } });
    await putTrainedModel(env.store, 'mdl_logged', { inputDim: 2, hidden: [3], task: 'binary' });
  });
  after(async () => {
    await env?.close();
  });

  test('a successful prediction writes no line; a failed one is logged under its request id', async () => {
    const before = lines().length;
    const ok = await env.app.inject({ method: 'POST', url: '/v1/models/mdl_logged/predict', payload: { x: [0.1, 0.2] } });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(lines().length, before, JSON.stringify(lines().slice(before)));

    const bad = await env.app.inject({ method: 'POST', url: '/v1/models/mdl_logged/predict', payload: { x: [0.1] } });
    assert.equal(bad.statusCode, 400);
    const id = bad.headers['x-request-id'];
    const mine = lines().filter((l) => l.reqId === id);
    assert.ok(mine.length >= 1, JSON.stringify(lines().slice(before)));
    assert.ok(mine.some((l) => l.statusCode === 400 && l.field === 'x'), JSON.stringify(mine));
  });

  test('a successful v2 inference writes no line either; a failed one is logged under its request id', async () => {
    const before = lines().length;
    const infer = (data: number[]) =>
      env.app.inject({
        method: 'POST',
        url: '/v2/models/mdl_logged/infer',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ inputs: [{ name: 'x', shape: [1, data.length], datatype: 'FP32', data }] }),
      });
    const ok = await infer([0.1, 0.2]);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(lines().length, before, JSON.stringify(lines().slice(before)));
    const bad = await infer([0.1]);
    assert.equal(bad.statusCode, 400);
    const mine = lines().filter((l) => l.reqId === bad.headers['x-request-id']);
    assert.ok(mine.some((l) => l.statusCode === 400 && /unexpected shape/.test(String(l.msg))), JSON.stringify(mine));
  });

  test('other routes keep their access log lines with the request id', async () => {
    const res = await env.app.inject({ url: '/v1/models', headers: { 'x-request-id': 'trace-abc' } });
    assert.equal(res.statusCode, 200);
    const mine = lines().filter((l) => l.reqId === 'trace-abc');
    assert.deepEqual(
      mine.map((l) => l.msg),
      ['incoming request', 'request completed'],
    );
  });
});
