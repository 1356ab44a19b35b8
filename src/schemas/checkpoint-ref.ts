// How a request names one of a model's checkpoints: an epoch number, or a name. Two names are built in
// and follow training: `latest` (the newest checkpoint) and `best` (the lowest validation loss, or the
// lowest loss without a validation split); every other name is an alias a user set to an epoch. A name
// starts with a letter, so it can never be read as an epoch. Shared by the store, the routes (v1 and v2)
// and the OpenAPI document.
import { Type } from 'typebox';

export const BUILT_IN_REFS = ['latest', 'best'] as const;
export type BuiltInRef = (typeof BUILT_IN_REFS)[number];

const NAME = '[A-Za-z][A-Za-z0-9_-]{0,63}';
const EPOCH = '[1-9][0-9]{0,8}';
export const ALIAS_NAME_PATTERN = `^${NAME}$`;
/** An epoch number or a name (built in or an alias). */
export const CHECKPOINT_REF_PATTERN = `^(${EPOCH}|${NAME})$`;

const ALIAS_NAME = new RegExp(ALIAS_NAME_PATTERN);

/** A reference to a checkpoint: an epoch, a built-in name or an alias name. */
export type CheckpointRef = number | string;

export function isBuiltInRef(ref: unknown): ref is BuiltInRef {
  return ref === 'latest' || ref === 'best';
}

/** A name a user may give an alias: the pattern, and not a built-in name. */
export function isAliasName(name: unknown): name is string {
  return typeof name === 'string' && ALIAS_NAME.test(name) && !isBuiltInRef(name);
}

/**
 * A reference as a path or query gives it (already checked against CHECKPOINT_REF_PATTERN): digits are
 * an epoch, anything else a name. No allocation for a name: this runs on every prediction.
 */
export function parseCheckpointRef(text: string): CheckpointRef {
  const c = text.charCodeAt(0);
  return c >= 48 && c <= 57 ? Number(text) : text;
}

export const AliasName = Type.String({
  pattern: ALIAS_NAME_PATTERN,
  description: 'A letter, then up to 63 letters, digits, _ or -; latest and best are built in',
});

export const CheckpointRefString = (description: string) => Type.String({ pattern: CHECKPOINT_REF_PATTERN, description });

/** A checkpoint in a JSON body: an epoch, or a name resolved when the request is served. */
export const CheckpointRefValue = (description: string) =>
  Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: ALIAS_NAME_PATTERN })], { description });
