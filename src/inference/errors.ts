// The error load() throws for a malformed checkpoint: `field` points at the bad layer/field so that a
// caller can log it and a user can find it in the document.

export class CheckpointFormatError extends Error {
  override name = 'CheckpointFormatError';
  constructor(
    /** e.g. `layers[3] "bn_1" (batchNorm).movingVariance[7]` */
    readonly field: string,
    detail: string,
  ) {
    super(`invalid checkpoint: ${field}: ${detail}`);
  }
}
