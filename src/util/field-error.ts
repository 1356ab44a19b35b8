// The one shape of an input problem users can fix: the field at fault (a dotted path such as
// `model.hidden[0]` or `training.batchSize`) and what is wrong with it. Specification, dataset and
// checkpoint errors extend FieldError so that callers branch on the class and the API answers 400
// naming the field; FieldErrors carries several at once (a submission reports every field at fault).

export interface FieldIssue {
  field: string;
  message: string;
}

export class FieldError extends Error {
  override name = 'FieldError';
  constructor(
    readonly field: string,
    readonly detail: string,
    message = `${field}: ${detail}`,
  ) {
    super(message);
  }

  get issues(): FieldIssue[] {
    return [{ field: this.field, message: this.message }];
  }
}

/** Several field problems found together; the first one is the error's own field and message. */
export class FieldErrors extends Error {
  override name = 'FieldErrors';
  readonly field: string;
  constructor(readonly issues: readonly FieldIssue[]) {
    if (issues.length === 0) throw new Error('internal: FieldErrors needs at least one issue');
    // The first issue's message unchanged: clients that read only `message` and `field` see what they did.
    super(issues[0].message);
    this.field = issues[0].field;
  }
}

/** Collects field problems; `throwIfAny` raises them together. */
export class IssueList {
  readonly issues: FieldIssue[] = [];

  add(field: string, message: string): void {
    this.issues.push({ field, message });
  }

  /** Records a FieldError (or FieldErrors) thrown by `fn` instead of letting it escape; other errors pass. */
  collect<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (err instanceof FieldError || err instanceof FieldErrors) {
        this.issues.push(...err.issues);
        return undefined;
      }
      throw err;
    }
  }

  get empty(): boolean {
    return this.issues.length === 0;
  }

  throwIfAny(): void {
    if (this.issues.length > 0) throw new FieldErrors(this.issues);
  }
}
