// The one place that decides whether a failed attempt is retried: what cannot get better by retrying
// fails the job at once with what to change; anything else is left to BullMQ's retries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnrecoverableError } from 'bullmq';
import { classifyFailure, DatasetMissingError } from '../src/worker/job-errors.js';
import { SpecError, TrainingDivergedError } from '../src/model/errors.js';
import { DatasetError } from '../src/datasets/errors.js';
import { FieldErrors } from '../src/util/field-error.js';
import { ModelGoneError } from '../src/store/store.js';

const context = { parameters: 19_688_877 };

test('a RangeError (a size limit of the JavaScript engine) fails at once, saying the job is too large and what to change', () => {
  let tooLong: unknown;
  try {
    'x'.repeat(2 ** 30);
  } catch (err) {
    tooLong = err;
  }
  for (const err of [tooLong, new RangeError('Array buffer allocation failed')]) {
    assert.ok(err instanceof RangeError);
    const out = classifyFailure(err, context);
    assert.ok(out instanceof UnrecoverableError, String(out));
    assert.match(out.message, /RangeError: .*19688877 parameters.*model\.hidden.*training\.batchSize/);
  }
});

test('specification, data, divergence, a missing dataset and a deleted model fail at once with their own message', () => {
  const cases = [
    new SpecError('model.hidden[0]', 'must be > 0'),
    new DatasetError('labels[3]', 'expected a finite number, got NaN'),
    new FieldErrors([{ field: 'a', message: 'a: bad' }]),
    new TrainingDivergedError(3, 7, 2),
    new DatasetMissingError('ds_gone'),
    new ModelGoneError('mdl_gone'),
  ];
  for (const err of cases) {
    const out = classifyFailure(err, context);
    assert.ok(out instanceof UnrecoverableError, err.name);
    assert.equal(out.message, err.message);
  }
  assert.match(new DatasetMissingError('ds_gone').message, /upload it again/);
});

test('anything else is retried: the error is passed on as it is', () => {
  const io = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
  assert.equal(classifyFailure(io, context), io);
  assert.ok(classifyFailure('a string', context) instanceof Error);
});
