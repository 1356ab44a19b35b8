// Which failures of a training attempt can get better by retrying, decided in one place. Retrying is for
// what is not the job's fault (a disk hiccup, a lost connection, a killed process): BullMQ does it with
// backoff, resuming from the last checkpoint. Everything else fails the job at once, with a message
// saying what to change.
import { UnrecoverableError } from 'bullmq';
import { FieldError, FieldErrors } from '../util/field-error.js';
import { TrainingDivergedError } from '../model/errors.js';
import { ModelGoneError } from '../store/store.js';

/** The job's dataset is not in the store (any more). */
export class DatasetMissingError extends Error {
  override name = 'DatasetMissingError';
  constructor(readonly datasetId: string) {
    super(`dataset ${JSON.stringify(datasetId)} does not exist (any more); upload it again or use a builtin:* dataset, and submit a new job`);
  }
}

export interface FailureContext {
  /** weights of the model, for the message of a job too large for this worker */
  parameters: number;
}

/** The error to throw to BullMQ: an UnrecoverableError (no retry) with a message for users, or `err` itself. */
export function classifyFailure(err: unknown, context: FailureContext): Error {
  if (err instanceof UnrecoverableError) return err;
  if (err instanceof FieldError || err instanceof FieldErrors || err instanceof TrainingDivergedError) {
    return new UnrecoverableError(err.message);
  }
  if (err instanceof DatasetMissingError || err instanceof ModelGoneError) return new UnrecoverableError(err.message);
  if (err instanceof RangeError) {
    // Past a size limit of the JavaScript engine (a string, an array, a buffer): the same job fails the
    // same way on every attempt.
    return new UnrecoverableError(
      `training failed with RangeError: ${err.message}. The model (${context.parameters} parameters) or its dataset is ` +
        'too large for this worker: use fewer or smaller hidden layers (model.hidden), a smaller training.batchSize or a smaller dataset',
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
