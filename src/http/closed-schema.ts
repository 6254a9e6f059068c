/**
 * Request schemas accept only what they declare (the HTTP contract, "Security rules"; OWASP Mass Assignment
 * Cheat Sheet: allow-list the bindable fields). Rather than every route remembering
 * `additionalProperties: false`, the validator compiler closes every object schema that does not
 * say otherwise, so a new route is covered by default. A schema that really takes arbitrary keys
 * says so with an explicit `additionalProperties` (true or a schema), which is left alone.
 */

type Json = Record<string, unknown>;

const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas'] as const;
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'prefixItems'] as const;
const SCHEMA_SINGLES = [
  'items',
  'additionalItems',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
] as const;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function declaresObject(schema: Json): boolean {
  const type = schema.type;
  return (
    type === 'object' ||
    (Array.isArray(type) && type.includes('object')) ||
    (type === undefined && isObject(schema.properties))
  );
}

/**
 * A deep copy of `schema` (string keys only: TypeBox's symbol markers mean nothing to Ajv) in which
 * every object schema without an `additionalProperties` of its own gets `additionalProperties: false`.
 * The input is never changed: TypeBox schemas are shared with response serialisation and the
 * OpenAPI document.
 */
export function closeObjectSchemas<T>(schema: T): T {
  return close(schema, false) as T;
}

function close(node: unknown, insideAllOf: boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => close(item, insideAllOf));
  if (!isObject(node)) return node;
  const copy: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if ((SCHEMA_MAPS as readonly string[]).includes(key) && isObject(value)) {
      copy[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, close(sub, false)]));
    } else if ((SCHEMA_LISTS as readonly string[]).includes(key) && Array.isArray(value)) {
      copy[key] = value.map((sub) => close(sub, false));
    } else if (key === 'allOf' && Array.isArray(value)) {
      // Each branch of an intersection sees only its own properties: closing one would refuse the
      // other branch's fields, so branches stay as written.
      copy[key] = value.map((sub) => close(sub, true));
    } else if ((SCHEMA_SINGLES as readonly string[]).includes(key) && (isObject(value) || Array.isArray(value))) {
      copy[key] = close(value, false);
    } else {
      // `enum`, `const`, `default`, `examples` are data, not schemas: copied as they are.
      copy[key] = value;
    }
  }
  // An intersection (allOf) declares its properties in its branches, which neither it nor they can
  // see from one another without `unevaluatedProperties` (JSON Schema 2019-09, not in the draft-07
  // Ajv used here): it is left open, and no request schema uses one.
  if (
    !insideAllOf &&
    !('allOf' in copy) &&
    declaresObject(copy) &&
    !('additionalProperties' in copy) &&
    !('unevaluatedProperties' in copy)
  ) {
    copy.additionalProperties = false;
  }
  return copy;
}
