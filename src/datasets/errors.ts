// A dataset the user sent cannot be accepted. `field` locates the problem (e.g. `features[12]`, `labels`,
// `line 5, column "iq"`) so the API can point at it; retrying the same data cannot help.
export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}
