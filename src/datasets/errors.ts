// A dataset the user sent cannot be accepted. `field` locates the problem (e.g. `features[12]`, `labels`,
// `line 5, column "iq"`) so the API can point at it; retrying the same data cannot help.
import { FieldError } from '../util/field-error.js';

export class DatasetError extends FieldError {
  override name = 'DatasetError';

  /** The same error (and class) located by another field. */
  at(field: string, detail = this.detail): DatasetError {
    const Class = this.constructor as new (field: string, detail: string) => DatasetError;
    return new Class(field, detail);
  }
}

/** The dataset is larger than a size limit allows (HTTP 413 rather than 400). */
export class DatasetTooLargeError extends DatasetError {
  override name = 'DatasetTooLargeError';
}
