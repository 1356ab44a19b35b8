// Schema validation errors (Ajv's, as Fastify reports them, and TypeBox's, which have the same shape)
// as field issues: the field in the dotted form every other error uses (model.hidden[0]) and a message
// that names it and says what is wrong.
import type { FieldIssue } from './field-error.js';

export interface SchemaError {
  instancePath?: string;
  keyword?: string;
  params?: Record<string, unknown>;
  message?: string;
}

/** '/model/hidden/0' -> 'model.hidden[0]'. */
export function pointerToField(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function joinField(base: string, name: unknown): string {
  if (typeof name !== 'string') return base;
  return base === '' ? name : `${base}.${name}`;
}

const names = (one: unknown, many: unknown): unknown[] => (Array.isArray(many) ? many : [one]);

/**
 * The issues of one schema error of a request part (`body`, `querystring`, ...). A TypeBox error may name
 * several properties (required, additionalProperties): one issue each. Its 'schema is false' twin of an
 * additionalProperties error gives none.
 */
export function describeSchemaError(error: SchemaError, context: string): FieldIssue[] {
  const path = pointerToField(error.instancePath ?? '');
  const params = error.params ?? {};
  const where = context === 'body' ? '' : `${context} `;
  switch (error.keyword) {
    case 'boolean':
      return [];
    case 'required':
      return names(params.missingProperty, params.requiredProperties).map((name) => {
        const field = joinField(path, name);
        return { field, message: `${where}${field} is required` };
      });
    case 'additionalProperties':
      return names(params.additionalProperty, params.additionalProperties).map((name) => {
        const field = joinField(path, name);
        return { field, message: `${where}${field} is not a known field; remove it (see the schema at /docs)` };
      });
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map((v) => JSON.stringify(v)).join(', ') : '';
      const field = path || context;
      return [{ field, message: `${where}${path || context} must be one of ${allowed}` }];
    }
    default: {
      const field = path || context;
      const subject = path === '' ? (context === 'body' ? 'the request body' : context) : `${where}${path}`;
      return [{ field, message: `${subject} ${error.message ?? 'is invalid'}` }];
    }
  }
}
