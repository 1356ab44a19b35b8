// Errors the engine throws. Callers branch on the class, users read the message.
import { FieldError } from '../util/field-error.js';

/** A specification or data problem: retrying cannot help. `field` is a dotted path (model.hidden[0]). */
export class SpecError extends FieldError {
  override name = 'SpecError';
}

export class TrainingCancelledError extends Error {
  override name = 'TrainingCancelledError';
  constructor(readonly lastSavedEpoch: number) {
    super(`training cancelled; last saved epoch ${lastSavedEpoch}`);
  }
}

export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  constructor(
    readonly epoch: number,
    readonly batch: number,
    readonly lastSavedEpoch: number,
    what = 'the loss',
  ) {
    super(
      `training diverged: ${what} became NaN or infinite in epoch ${epoch}, batch ${batch}; ` +
        `the last finite checkpoint is epoch ${lastSavedEpoch}. Lower the learning rate or enable batchNorm.`,
    );
  }

  /** The epochs of such a message as a failed job keeps it (its error text), or undefined for any other. */
  static parse(message: string | undefined): { epoch: number; lastSavedEpoch: number } | undefined {
    const m = message === undefined ? null : DIVERGED_MESSAGE.exec(message);
    return m ? { epoch: Number(m[1]), lastSavedEpoch: Number(m[2]) } : undefined;
  }
}

/** What the constructor writes, read back; kept beside it so that the two change together. */
const DIVERGED_MESSAGE = /^training diverged: .* in epoch (\d+), batch \d+; the last finite checkpoint is epoch (\d+)\./;
