// Errors the engine throws. Callers branch on the class, users read the message.

/** A specification or data problem: retrying cannot help. `field` is a JSON pointer-like path. */
export class SpecError extends Error {
  override name = 'SpecError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
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
}
