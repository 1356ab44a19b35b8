// A dataset the user sent cannot be accepted. `field` locates the problem (e.g. `features[12]`, `labels`,
// `line 5, column "iq"`) so the API can point at it; retrying the same data cannot help.
import { FieldError } from '../util/field-error.js';

export class DatasetError extends FieldError {
  override name = 'DatasetError';
}
