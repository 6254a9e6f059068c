import { Type, type TSchema, type StringOptions } from '@sinclair/typebox';

/** Every string the API accepts refuses NUL bytes, which no field of ours has a use for. */
export function Str(options: StringOptions = {}): ReturnType<typeof Type.String> {
  return Type.String({ pattern: '^[^\\u0000]*$', ...options });
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
