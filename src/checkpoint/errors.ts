// The error a checkpoint reader throws for a malformed checkpoint: `field` points at the bad layer/field
// (e.g. `layers[3] "bn_1" (batchNorm).movingVariance[7]`) so a caller can log it and a user can find it.
import { FieldError } from '../util/field-error.js';

export class CheckpointFormatError extends FieldError {
  override name = 'CheckpointFormatError';
  constructor(field: string, detail: string) {
    super(field, detail, `invalid checkpoint: ${field}: ${detail}`);
  }
}
