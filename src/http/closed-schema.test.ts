import { Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { closeObjectSchemas } from './closed-schema.js';

/** The walker behind "every request schema refuses what it does not declare" (server.ts). */
describe('closeObjectSchemas', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const accepts = (schema: object, data: unknown) => ajv.compile(closeObjectSchemas(schema))(data);

  it('closes nested objects, objects inside unions and arrays, and optional bodies', () => {
    const schema = Type.Optional(
      Type.Object({
        profile: Type.Object({ name: Type.String() }),
        contact: Type.Union([
          Type.Object({ email: Type.String() }),
          Type.Object({ phone: Type.String() }),
          Type.Null(),
        ]),
        tags: Type.Array(Type.Object({ label: Type.String() })),
      }),
    );
    const valid = { profile: { name: 'a' }, contact: { email: 'a@b.c' }, tags: [{ label: 'x' }] };
    expect(accepts(schema, valid)).toBe(true);
    expect(accepts(schema, { ...valid, role: 'admin' })).toBe(false);
    expect(accepts(schema, { ...valid, profile: { name: 'a', role: 'admin' } })).toBe(false);
    expect(accepts(schema, { ...valid, contact: { email: 'a@b.c', role: 'admin' } })).toBe(false);
    expect(accepts(schema, { ...valid, tags: [{ label: 'x', role: 'admin' }] })).toBe(false);
  });

  it('leaves an explicit additionalProperties alone (a schema that means to take any key says so)', () => {
    expect(accepts(Type.Object({ a: Type.String() }, { additionalProperties: true }), { a: 'x', b: 1 })).toBe(true);
    expect(accepts(Type.Record(Type.String(), Type.Number()), { any: 1 })).toBe(true);
  });

  it('never makes an intersection refuse its own fields (it is left open; the OpenAPI-driven mass-assignment suite flags a route that uses one)', () => {
    const schema = Type.Intersect([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })]);
    expect(accepts(schema, { a: 'x', b: 'y' })).toBe(true);
  });

  it('never changes the schema it is given (TypeBox schemas are shared with responses and the document)', () => {
    const schema = Type.Object({ nested: Type.Object({ a: Type.String() }) });
    const before = JSON.stringify(schema);
    const closed = closeObjectSchemas(schema);
    expect(JSON.stringify(schema)).toBe(before);
    expect(closed).not.toBe(schema);
    expect(closed.nested).toBeUndefined();
    expect(
      (closed as unknown as { properties: { nested: { additionalProperties: boolean } } }).properties.nested
        .additionalProperties,
    ).toBe(false);
  });
});
