import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/db/create-database.js';
import { buildTestApp, signUp, uniqueName, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import {
  createResponseChecker,
  exampleOf,
  loadApiDocument,
  urlOf,
  type ApiDocument,
  type Operation,
} from '../support/openapi.js';

/**
 * Property-based fuzz of every operation the server publishes in `GET /openapi.json`: random and
 * malformed bodies, query strings and path parameters, with no token, a garbage token, a user's
 * and an administrator's. Whatever arrives, the answer is never a 5xx (503 only where the
 * operation declares it), and its status and body are the ones the document declares.
 * fast-check prints the seed and the shrunk counterexample of a failure; rerun it with
 * FUZZ_SEED=<seed> (and FUZZ_PATH=<path>).
 */

const RUNS: Record<Dialect, number> = { sqlite: Number(process.env.FUZZ_RUNS ?? 25), postgres: 5, mysql: 5 };
const BODY_LIMIT = 64 * 1024;
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const path = process.env.FUZZ_PATH;

// The document is read once, from a throwaway app, so each operation is its own test.
const api: ApiDocument = await (async () => {
  const t = await buildTestApp();
  try {
    return await loadApiDocument(t.app);
  } finally {
    await t.close();
  }
})();

// `shared` is one account for the whole run, so repeated failures are reached too; `locked` is an
// account locked out (five wrong passwords) before the run starts.
type Auth = 'none' | 'garbage' | 'user' | 'admin' | 'shared' | 'locked';
const AUTHS: Auth[] = ['none', 'garbage', 'user', 'admin', 'shared', 'locked'];

interface Request {
  auth: Auth;
  params: Record<string, unknown>;
  query: Record<string, string>;
  /** A JSON text, or undefined for no body at all. */
  body: string | undefined;
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    '\u0000',
    'a\u0000b',
    '😀',
    '\u202e',
    '%00',
    '../../etc/passwd',
    "' or 1=1 --",
    '<script>',
    '١٢٣',
    '1e309',
    '-0',
    'NaN',
    'null',
    'true',
  ),
);
const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1.005, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308));

/** Nesting written as text: JSON.stringify itself would overflow the stack at these depths. */
function deep(depth: number, leaf: unknown, asArray: boolean): string {
  return (
    (asArray ? '['.repeat(depth) : '{"a":'.repeat(depth)) + JSON.stringify(leaf) + (asArray ? ']' : '}').repeat(depth)
  );
}

/** Any JSON value, the operation's valid body with one field changed, deep nesting, huge strings, prototype keys. */
function bodies(operation: Operation): fc.Arbitrary<string | undefined> {
  const anything = fc.jsonValue({ maxDepth: 4 });
  const base = operation.bodySchema ? (exampleOf(operation.bodySchema) as Record<string, unknown>) : {};
  const fieldNames = Object.keys(base).length > 0 ? Object.keys(base) : ['x'];
  const mutated = fc
    .tuple(fc.constantFrom(...fieldNames), fc.oneof(anything, text, number, fc.constant(null)), fc.boolean())
    .map(([field, value, drop]) => {
      const copy: Record<string, unknown> = { ...base };
      if (drop) delete copy[field];
      else copy[field] = value;
      return JSON.stringify(copy);
    });
  const extraField = fc
    .tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 12 })), anything)
    .map(([key, value]) => {
      const fields = Object.entries(base).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
      // Written by hand: JSON.stringify would drop a `__proto__` key set on an object.
      return `{${[...fields, `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`].join(',')}}`;
    });
  const nesting = fc
    .tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean())
    .map(([depth, asArray]) => deep(depth, base, asArray));
  const huge = fc
    .tuple(
      fc.constantFrom(...fieldNames),
      fc.integer({ min: 1000, max: BODY_LIMIT + 1000 }),
      fc.constantFrom('a', '\u0000', 'é', '😀'),
    )
    .map(([field, length, char]) => JSON.stringify({ ...base, [field]: char.repeat(Math.ceil(length / char.length)) }));
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 1 },
    // The schema's own example: valid, so it reaches the handler (and, repeated, its lockouts).
    { arbitrary: fc.constant(JSON.stringify(base)), weight: 3 },
    { arbitrary: anything.map((v) => JSON.stringify(v)), weight: 2 },
    { arbitrary: mutated, weight: 4 },
    { arbitrary: extraField, weight: 2 },
    { arbitrary: nesting, weight: 1 },
    { arbitrary: huge, weight: 1 },
  );
}

function requests(operation: Operation): fc.Arbitrary<Request> {
  // Never empty: an empty segment is another route (`/products/` is `/products`), not this operation.
  const paramValue = fc.oneof(
    fc.constant('known'),
    fc.integer({ min: -5, max: 5 }),
    fc.integer(),
    fc.constantFrom(2 ** 31, 2 ** 53, '1.5', '0x10', '1e3', ' 1'),
    text.filter((s) => s !== ''),
  );
  const params = fc.record(
    Object.fromEntries(operation.pathParams.map((p) => [p.name, paramValue])) as Record<string, fc.Arbitrary<unknown>>,
  );
  const queryKey = fc.oneof(
    fc.constantFrom(...operation.queryParams.map((p) => p.name), 'role', ...PROTO_KEYS),
    fc.string({ minLength: 1, maxLength: 12 }),
  );
  const queryValue = fc.oneof(text, number.map(String), fc.constantFrom('1', '20', '100', '101', '-1', ''));
  const query = fc.dictionary(queryKey, queryValue, { maxKeys: 4 });
  return fc.record({ auth: fc.constantFrom(...AUTHS), params, query, body: bodies(operation) });
}

function validRequest(operation: Operation, auth: Auth): Request {
  return {
    auth,
    params: Object.fromEntries(operation.pathParams.map((p) => [p.name, 'known'])),
    query: {},
    body: operation.bodySchema ? JSON.stringify(exampleOf(operation.bodySchema)) : undefined,
  };
}

const dialects = await testDialects();

describe.each(dialects)('API fuzz on %s: every answer is one the document declares', (dialect) => {
  let t: TestApp;
  let check: ReturnType<typeof createResponseChecker>;
  let shared: Session;
  let locked: Session & { username: string };

  beforeAll(async () => {
    t = await buildTestApp({ dialect });
    check = createResponseChecker(api);
    shared = await signUp(t.app, uniqueName('fzshared'));
    locked = await signUp(t.app, uniqueName('fzlocked'));
    for (let i = 0; i < 5; i++)
      await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: locked.username, password: 'not the password' },
      });
  });
  afterAll(async () => t?.close());

  /** Fresh accounts for each run: one run's logout-all or lock never starves the next. */
  async function headersFor(
    auth: Auth,
  ): Promise<{ headers: Record<string, string>; ownId: number | undefined; productId: number | undefined }> {
    if (auth === 'none') return { headers: {}, ownId: undefined, productId: undefined };
    if (auth === 'shared') return { headers: shared.auth, ownId: shared.userId, productId: undefined };
    if (auth === 'locked') return { headers: locked.auth, ownId: locked.userId, productId: undefined };
    if (auth === 'garbage')
      return { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' }, ownId: undefined, productId: undefined };
    const session = await signUp(t.app, uniqueName(auth === 'admin' ? 'fzadmin' : 'fz'));
    if (auth === 'admin')
      await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', session.userId).execute();
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/products',
      headers: session.auth,
      payload: { name: 'Fuzz', price: 1, quantity: 1 },
    });
    return { headers: session.auth, ownId: session.userId, productId: created.json().id as number };
  }

  it.each(api.operations.map((o) => [o.key, o] as const))(
    '%s',
    async (_key, operation) => {
      await fc.assert(
        fc.asyncProperty(requests(operation), async (request) => {
          const { headers, ownId, productId } = await headersFor(request.auth);
          const known = operation.path.includes('/users/') ? ownId : productId;
          const params = Object.fromEntries(
            Object.entries(request.params).map(([name, value]) => [name, value === 'known' ? (known ?? 1) : value]),
          );
          const response = await t.app.inject({
            method: operation.method,
            url: urlOf(operation.path, params, request.query),
            headers: { ...headers, ...(request.body === undefined ? {} : { 'content-type': 'application/json' }) },
            ...(request.body === undefined ? {} : { payload: request.body }),
          });
          const status = response.statusCode;
          const serverError = status >= 500 && !(status === 503 && '503' in operation.responses);
          expect(serverError, `${operation.key} answered ${status}: ${response.body.slice(0, 300)}`).toBe(false);
          expect(check(operation, response)).toEqual([]);
        }),
        // First, always: the schema's own valid request with each kind of caller, so every operation's
        // handler (and its lockout) is reached whatever the random draws.
        {
          numRuns: RUNS[dialect],
          examples: AUTHS.map((auth) => [validRequest(operation, auth)]),
          ...(seed === undefined ? {} : { seed }),
          ...(path === undefined ? {} : { path }),
          endOnFailure: false,
        },
      );
    },
    120_000,
  );
});
