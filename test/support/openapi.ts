import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { LightMyRequestResponse } from 'fastify';
import type { App } from '../../src/http/server.js';

/**
 * The OpenAPI document the server publishes (`GET /openapi.json`), read the way a client would:
 * the operations, their request schemas, and validators for the answers they declare. The
 * mass-assignment and fuzz suites are generated from it, so a new route is covered without
 * anyone remembering to add it.
 */

type Json = Record<string, unknown>;

// ajv-formats is CommonJS with a default export: under NodeNext the callable is `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: Json;
}

export interface Operation {
  /** `METHOD /path/{param}`, e.g. `PATCH /api/admin/users/{id}`. */
  key: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  bodySchema: Json | undefined;
  queryParams: Parameter[];
  pathParams: Parameter[];
  /** Declared statuses ("200", "400"...) and their JSON schema, if the answer has a body. */
  responses: Record<string, Json | undefined>;
}

export interface ApiDocument {
  doc: Json & { paths: Record<string, Record<string, Json>>; components?: { schemas?: Record<string, Json> } };
  operations: Operation[];
}

export async function loadApiDocument(app: App): Promise<ApiDocument> {
  const response = await app.inject({ method: 'GET', url: '/openapi.json' });
  if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`);
  const doc = response.json() as ApiDocument['doc'];
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const parameters = (op.parameters as Parameter[] | undefined) ?? [];
      const requestBody = op.requestBody as { content?: Record<string, { schema?: Json }> } | undefined;
      const responses: Record<string, Json | undefined> = {};
      for (const [status, answer] of Object.entries(
        (op.responses as Record<string, { content?: Record<string, { schema?: Json }> }>) ?? {},
      )) {
        responses[status] = answer.content?.['application/json']?.schema;
      }
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase() as Operation['method'],
        path,
        bodySchema: requestBody?.content?.['application/json']?.schema,
        queryParams: parameters.filter((p) => p.in === 'query'),
        pathParams: parameters.filter((p) => p.in === 'path'),
        responses,
      });
    }
  }
  return { doc, operations };
}

/** `/api/products/{id}` with `{id: 5}` → `/api/products/5` (values percent-encoded), plus a query string. */
export function urlOf(path: string, params: Record<string, unknown> = {}, query: Record<string, string> = {}): string {
  const filled = path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(String(params[name])));
  const search = new URLSearchParams(query).toString();
  return search ? `${filled}?${search}` : filled;
}

/**
 * Checks an answer against what the document declares for the operation: the status must be
 * declared, and a JSON body must match that status's schema (`$ref`s resolved in the document).
 * Returns the problems found (empty when the answer is as documented).
 */
export function createResponseChecker(
  api: ApiDocument,
): (operation: Operation, response: LightMyRequestResponse) => string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema({ $id: 'openapi', components: api.doc.components ?? {} });
  const compiled = new Map<Json, ValidateFunction>();
  const validatorFor = (schema: Json): ValidateFunction => {
    let validate = compiled.get(schema);
    if (!validate) {
      // Relative `#/components/...` references resolve against the registered document.
      validate = ajv.compile({ $id: `openapi-answer-${compiled.size}`, ...(rebase(schema) as Json) });
      compiled.set(schema, validate);
    }
    return validate;
  };
  return (operation, response) => {
    const status = String(response.statusCode);
    if (!(status in operation.responses))
      return [
        `${operation.key} answered ${status}, which the document does not declare (declared: ${Object.keys(operation.responses).join(', ')}): ${response.body.slice(0, 300)}`,
      ];
    const schema = operation.responses[status];
    if (!schema) {
      if (status === '204' && response.body !== '')
        return [`${operation.key} answered 204 with a body: ${response.body.slice(0, 200)}`];
      return [];
    }
    if (!/^application\/json/.test(String(response.headers['content-type'] ?? '')))
      return [`${operation.key} ${status}: content-type ${String(response.headers['content-type'])}, not JSON`];
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      return [`${operation.key} ${status}: the body is not JSON: ${response.body.slice(0, 200)}`];
    }
    const validate = validatorFor(schema);
    if (validate(body)) return [];
    return [
      `${operation.key} ${status}: the body does not match the declared schema: ${ajv.errorsText(validate.errors)}; body ${response.body.slice(0, 300)}`,
    ];
  };
}

function rebase(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rebase);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `openapi${value}` : rebase(value),
    ]),
  );
}

const STRING_CANDIDATES = ['abc_123', 'user@example.com', 'correct horse battery staple', '123456', 'x'];

/**
 * A value the schema accepts, built from the schema alone: every declared property, the first
 * branch of a union, the smallest allowed number, a string from a few candidates that matches.
 */
export function exampleOf(schema: Json, ajv = new Ajv({ strict: false })): unknown {
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if ('const' in schema) return schema.const;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key] as Json[] | undefined;
    if (branches?.length) return exampleOf(branches.find((b) => b.type !== 'null') ?? branches[0]!, ajv);
  }
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties as Record<string, Json> | undefined) ?? {};
      return Object.fromEntries(Object.entries(properties).map(([name, sub]) => [name, exampleOf(sub, ajv)]));
    }
    case 'array':
      return [];
    case 'boolean':
      return false;
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? Math.max(schema.minimum, 1) : 1;
    case 'string': {
      const validate = ajv.compile(schema);
      const found = STRING_CANDIDATES.find((candidate) => validate(candidate));
      if (found === undefined) throw new Error(`no example string for ${JSON.stringify(schema)}`);
      return found;
    }
    default:
      return null;
  }
}
