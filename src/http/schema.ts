import { Type, type TSchema, type StringOptions } from '@sinclair/typebox';
import { validationError } from '../lib/errors.js';

export const NO_NUL_PATTERN = '^[^\\u0000]*$';

/**
 * A schema's sentence for a value that fails its `pattern`, shown to the person instead of the
 * pattern (an OpenAPI extension, so the published document stays valid; Ajv ignores it).
 */
export const PATTERN_MESSAGE = 'x-pattern-message';

/** Every string the API accepts refuses NUL bytes, which no field of ours has a use for. */
export function Str(options: StringOptions = {}): ReturnType<typeof Type.String> {
  return Type.String({ pattern: NO_NUL_PATTERN, ...options });
}

export const ErrorSchema = Type.Object(
  {
    error: Type.String({ description: 'Stable machine code, e.g. validation_failed' }),
    message: Type.String(),
    fields: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { $id: 'Error', description: 'Every error has this body (the HTTP contract, Conventions).' },
);

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });

/** The 204 answer: no body (RFC 9110 §15.3.5). Declared so the document lists every status a route gives. */
export const NoContent = Type.Unsafe<void>({ type: 'null', description: 'No content' });

/** Standard error responses for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Ref('Error')]));
}

/**
 * A field that an original client sends under another name (`token` for `code`, `login_token` for
 * `mfa_token`): the value under either name, required under one of them. Two different values are
 * refused rather than one silently chosen.
 */
export function aliasedField<K extends string, A extends string>(
  body: Partial<Record<K | A, string>>,
  name: K,
  alias: A,
): string {
  const value = body[name];
  const aliasValue = body[alias];
  if (value !== undefined && aliasValue !== undefined && value !== aliasValue) {
    throw validationError({ [alias]: `must equal ${name} when both are sent` });
  }
  const chosen = value ?? aliasValue;
  if (!chosen) throw validationError({ [name]: 'is required' }, `${name} is required.`);
  return chosen;
}
