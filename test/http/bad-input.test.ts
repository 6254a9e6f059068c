import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, signUp, uniqueName, type TestApp } from '../support/app.js';

/**
 * Hostile and clumsy input at every JSON endpoint: the answer is always the contract's error
 * body (the HTTP contract, "Conventions") with a fitting 4xx status, never a 500 and never internal detail.
 */

type Method = 'POST' | 'PUT' | 'PATCH';

interface Endpoint {
  name: string;
  method: Method;
  url: string;
  authenticated: boolean;
  /** A body the endpoint accepts in shape, for the tests that only vary one thing. */
  valid: Record<string, unknown>;
}

// Anything that looks like a stack trace, SQL, a driver, a file path or Fastify's own error codes.
const LEAKS = [
  /stack/i,
  /\bselect\b/i,
  /\binsert\b/i,
  /sqlite/i,
  /postgres/i,
  /mysql/i,
  /kysely/i,
  /\bat .*\(/,
  /node_modules/,
  /\/work\//,
  /\.[tj]s:\d+/,
  /FST_/,
  /statusCode/,
];

function expectContractError(
  response: LightMyRequestResponse,
  status: number,
  code: string,
): { error: string; message: string; fields?: Record<string, string> } {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  for (const leak of LEAKS) expect(response.body).not.toMatch(leak);
  const body = response.json();
  expect(body.error).toBe(code);
  expect(typeof body.message).toBe('string');
  expect(body.message.length).toBeGreaterThan(0);
  if (code === 'validation_failed') {
    expect(Object.keys(body).sort()).toEqual(['error', 'fields', 'message']);
    expect(typeof body.fields).toBe('object');
    for (const why of Object.values(body.fields)) expect(typeof why).toBe('string');
  } else {
    expect(Object.keys(body).sort()).toEqual(['error', 'message']);
  }
  return body;
}

function expectFieldError(response: LightMyRequestResponse, field: string): string {
  const body = expectContractError(response, 400, 'validation_failed');
  expect(body.fields, response.body).toHaveProperty([field]);
  return body.fields![field]!;
}

describe('bad input over HTTP on sqlite', () => {
  let t: TestApp;
  let auth: { authorization: string };
  let productId: number;
  let endpoints: Endpoint[];

  beforeAll(async () => {
    t = await buildTestApp();
    const session = await signUp(t.app);
    auth = session.auth;
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/products',
      headers: auth,
      payload: { name: 'Widget', price: 1.15, quantity: 3 },
    });
    expect(created.statusCode).toBe(201);
    productId = created.json().id;
    endpoints = [
      {
        name: 'register',
        method: 'POST',
        url: '/api/auth/register',
        authenticated: false,
        valid: { username: uniqueName('bad'), password: PASSWORD },
      },
      {
        name: 'login',
        method: 'POST',
        url: '/api/auth/login',
        authenticated: false,
        valid: { username: session.username, password: PASSWORD },
      },
      {
        name: 'products create',
        method: 'POST',
        url: '/api/products',
        authenticated: true,
        valid: { name: 'Gadget', price: 2, quantity: 1 },
      },
      {
        name: 'products update (PUT)',
        method: 'PUT',
        url: `/api/products/${productId}`,
        authenticated: true,
        valid: { name: 'Widget' },
      },
      {
        name: 'products update (PATCH)',
        method: 'PATCH',
        url: `/api/products/${productId}`,
        authenticated: true,
        valid: { quantity: 4 },
      },
      {
        name: 'refresh',
        method: 'POST',
        url: '/api/auth/refresh',
        authenticated: false,
        valid: { refresh_token: session.refreshToken },
      },
      {
        name: 'token verify',
        method: 'POST',
        url: '/api/auth/token/verify',
        authenticated: false,
        valid: { token: session.accessToken },
      },
    ];
  });
  afterAll(async () => t?.close());

  function send(endpoint: Endpoint, options: Omit<InjectOptions, 'method' | 'url'>): Promise<LightMyRequestResponse> {
    const headers = {
      ...(endpoint.authenticated ? auth : {}),
      ...(options.headers as Record<string, string> | undefined),
    };
    return t.app.inject({ ...options, method: endpoint.method, url: endpoint.url, headers });
  }

  // describe-time names only; the endpoints themselves are built once the app is up.
  const names = [
    'register',
    'login',
    'products create',
    'products update (PUT)',
    'products update (PATCH)',
    'refresh',
    'token verify',
  ];
  const endpoint = (name: string): Endpoint => endpoints.find((e) => e.name === name)!;

  describe.each(names)('%s', (name) => {
    it.each(['{"username": ', '{bad}', "{'a': 1}", '{"a": 1,}', '{"a": 1}}', 'nul', '\u0000'])(
      'answers malformed JSON %j with 400 invalid_json',
      async (payload) => {
        const response = await send(endpoint(name), { headers: { 'content-type': 'application/json' }, payload });
        expectContractError(response, 400, 'invalid_json');
      },
    );

    it('answers an empty body sent as JSON with 400 invalid_json', async () => {
      const response = await send(endpoint(name), { headers: { 'content-type': 'application/json' }, payload: '' });
      expectContractError(response, 400, 'invalid_json');
    });

    it('refuses a __proto__ key as invalid_json (prototype poisoning)', async () => {
      const payload = JSON.stringify(endpoint(name).valid).replace(/^\{/, '{"__proto__": {"role": "admin"}, ');
      const response = await send(endpoint(name), { headers: { 'content-type': 'application/json' }, payload });
      expectContractError(response, 400, 'invalid_json');
    });

    it.each(['null', '[]', '"text"', '42', 'true'])(
      'answers the JSON value %s instead of an object with 400 validation_failed',
      async (payload) => {
        const response = await send(endpoint(name), { headers: { 'content-type': 'application/json' }, payload });
        expect(expectFieldError(response, 'body')).toBe('must be a JSON object');
      },
    );

    it.each([
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/jsonx',
    ])('answers Content-Type %s with 415 unsupported_media_type', async (contentType) => {
      const response = await send(endpoint(name), {
        headers: { 'content-type': contentType },
        payload: 'username=a&password=b',
      });
      expectContractError(response, 415, 'unsupported_media_type');
    });

    it('answers a body over 64 KiB with 413 payload_too_large', async () => {
      const payload = JSON.stringify({ ...endpoint(name).valid, padding: 'x'.repeat(64 * 1024) });
      const response = await send(endpoint(name), { headers: { 'content-type': 'application/json' }, payload });
      expectContractError(response, 413, 'payload_too_large');
    });

    it('accepts a body just under 64 KiB as far as size goes (no 413)', async () => {
      const valid = JSON.stringify(endpoint(name).valid);
      const payload = JSON.stringify({ ...endpoint(name).valid, padding: 'x'.repeat(64 * 1024 - valid.length - 20) });
      expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(64 * 1024);
      const response = await send(endpoint(name), { headers: { 'content-type': 'application/json' }, payload });
      expect(response.statusCode).not.toBe(413);
      expect(response.statusCode).toBeLessThan(500);
    });
  });

  describe('wrong types and out-of-range values name the field', () => {
    const cases: Array<[string, () => InjectOptions, string]> = [
      [
        'username as a number on register',
        () => ({ method: 'POST', url: '/api/auth/register', payload: { username: 12345, password: PASSWORD } }),
        'username',
      ],
      [
        'password as an object on register',
        () => ({
          method: 'POST',
          url: '/api/auth/register',
          payload: { username: uniqueName(), password: { $gt: '' } },
        }),
        'password',
      ],
      [
        'email as an array on register',
        () => ({
          method: 'POST',
          url: '/api/auth/register',
          payload: { username: uniqueName(), password: PASSWORD, email: ['a@b.cd'] },
        }),
        'email',
      ],
      [
        'email without @ on register',
        () => ({
          method: 'POST',
          url: '/api/auth/register',
          payload: { username: uniqueName(), password: PASSWORD, email: 'not-an-email' },
        }),
        'email',
      ],
      [
        'username with a space on register',
        () => ({ method: 'POST', url: '/api/auth/register', payload: { username: 'two words', password: PASSWORD } }),
        'username',
      ],
      [
        'username of 2 characters on register',
        () => ({ method: 'POST', url: '/api/auth/register', payload: { username: 'ab', password: PASSWORD } }),
        'username',
      ],
      [
        'username as a number on login',
        () => ({ method: 'POST', url: '/api/auth/login', payload: { username: 12345, password: PASSWORD } }),
        'username',
      ],
      [
        'password as null on login',
        () => ({ method: 'POST', url: '/api/auth/login', payload: { username: 'someone', password: null } }),
        'password',
      ],
      [
        'totp_code as a number on login',
        () => ({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: 'someone', password: PASSWORD, totp_code: 123456 },
        }),
        'totp_code',
      ],
      [
        'price as the string "1.15"',
        () => ({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: 'n', price: '1.15', quantity: 1 },
        }),
        'price',
      ],
      [
        'price below zero',
        () => ({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: 'n', price: -0.01, quantity: 1 },
        }),
        'price',
      ],
      [
        'price with three decimals',
        () => ({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: 'n', price: 1.155, quantity: 1 },
        }),
        'price',
      ],
      [
        'price above 99999999.99',
        () => ({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: 'n', price: 100000000, quantity: 1 },
        }),
        'price',
      ],
      [
        'price 1e400 (Infinity after parsing)',
        () => ({
          method: 'POST',
          url: '/api/products',
          headers: { ...auth, 'content-type': 'application/json' },
          payload: '{"name":"n","price":1e400,"quantity":1}',
        }),
        'price',
      ],
      [
        'quantity 1.5',
        () => ({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: 'n', price: 1, quantity: 1.5 },
        }),
        'quantity',
      ],
      [
        'quantity -1',
        () => ({ method: 'POST', url: '/api/products', headers: auth, payload: { name: 'n', price: 1, quantity: -1 } }),
        'quantity',
      ],
      [
        'quantity as the string "3"',
        () => ({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: 'n', price: 1, quantity: '3' },
        }),
        'quantity',
      ],
      [
        'quantity beyond a 32-bit integer',
        () => ({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: 'n', price: 1, quantity: 2 ** 31 },
        }),
        'quantity',
      ],
      [
        'name as a boolean',
        () => ({ method: 'POST', url: '/api/products', headers: auth, payload: { name: true, price: 1, quantity: 1 } }),
        'name',
      ],
      [
        'a blank name',
        () => ({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: '   ', price: 1, quantity: 1 },
        }),
        'name',
      ],
      [
        'quantity 1.5 on update',
        () => ({ method: 'PATCH', url: `/api/products/${productId}`, headers: auth, payload: { quantity: 1.5 } }),
        'quantity',
      ],
      [
        'price as a string on update',
        () => ({ method: 'PUT', url: `/api/products/${productId}`, headers: auth, payload: { price: '1.15' } }),
        'price',
      ],
      ['limit=0', () => ({ method: 'GET', url: '/api/products?limit=0', headers: auth }), 'limit'],
      ['limit=101', () => ({ method: 'GET', url: '/api/products?limit=101', headers: auth }), 'limit'],
      ['limit=abc', () => ({ method: 'GET', url: '/api/products?limit=abc', headers: auth }), 'limit'],
      ['limit=1.5', () => ({ method: 'GET', url: '/api/products?limit=1.5', headers: auth }), 'limit'],
      ['limit given twice', () => ({ method: 'GET', url: '/api/products?limit=1&limit=2', headers: auth }), 'limit'],
      ['offset=-1', () => ({ method: 'GET', url: '/api/products?offset=-1', headers: auth }), 'offset'],
      [
        'offset beyond a 32-bit integer',
        () => ({ method: 'GET', url: '/api/products?offset=99999999999999999999', headers: auth }),
        'offset',
      ],
      ['q of 101 characters', () => ({ method: 'GET', url: `/api/products?q=${'q'.repeat(101)}`, headers: auth }), 'q'],
      ['id abc on GET', () => ({ method: 'GET', url: '/api/products/abc', headers: auth }), 'id'],
      ['id 0 on GET', () => ({ method: 'GET', url: '/api/products/0', headers: auth }), 'id'],
      ['id -1 on GET', () => ({ method: 'GET', url: '/api/products/-1', headers: auth }), 'id'],
      ['id 99999999999 on GET', () => ({ method: 'GET', url: '/api/products/99999999999', headers: auth }), 'id'],
      [
        'id abc on PUT',
        () => ({ method: 'PUT', url: '/api/products/abc', headers: auth, payload: { name: 'x' } }),
        'id',
      ],
      [
        'id 0 on PATCH',
        () => ({ method: 'PATCH', url: '/api/products/0', headers: auth, payload: { name: 'x' } }),
        'id',
      ],
      [
        'id 99999999999 on PATCH',
        () => ({ method: 'PATCH', url: '/api/products/99999999999', headers: auth, payload: { name: 'x' } }),
        'id',
      ],
      ['id abc on DELETE', () => ({ method: 'DELETE', url: '/api/products/abc', headers: auth }), 'id'],
      ['id 1.5 on DELETE', () => ({ method: 'DELETE', url: '/api/products/1.5', headers: auth }), 'id'],
      [
        'session id abc on DELETE /api/auth/sessions/:id',
        () => ({ method: 'DELETE', url: '/api/auth/sessions/abc', headers: auth }),
        'id',
      ],
      [
        'refresh_token as a number',
        () => ({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: 5 } }),
        'refresh_token',
      ],
      [
        'an empty refresh_token',
        () => ({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: '' } }),
        'refresh_token',
      ],
      [
        'token as a number on verify',
        () => ({ method: 'POST', url: '/api/auth/token/verify', payload: { token: 42 } }),
        'token',
      ],
      [
        'token over 8192 characters on verify',
        () => ({ method: 'POST', url: '/api/auth/token/verify', payload: { token: 'a'.repeat(8193) } }),
        'token',
      ],
    ];

    it.each(cases)('%s is 400 validation_failed naming the field', async (_label, request, field) => {
      expectFieldError(await t.app.inject(request()), field);
    });

    it('refuses an update with no known field', async () => {
      expectFieldError(
        await t.app.inject({ method: 'PATCH', url: `/api/products/${productId}`, headers: auth, payload: {} }),
        'body',
      );
      // A field the schema does not declare is named, not silently ignored.
      expect(
        expectFieldError(
          await t.app.inject({
            method: 'PATCH',
            url: `/api/products/${productId}`,
            headers: auth,
            payload: { unknown: 'x' },
          }),
          'unknown',
        ),
      ).toBe('is not allowed');
    });
  });

  describe('NUL bytes are refused in every string', () => {
    const NUL = '\u0000';
    const cases: Array<[string, () => InjectOptions, string]> = [
      [
        'username on register',
        () => ({
          method: 'POST',
          url: '/api/auth/register',
          payload: { username: `nul${NUL}user`, password: PASSWORD },
        }),
        'username',
      ],
      [
        'password on register',
        () => ({
          method: 'POST',
          url: '/api/auth/register',
          payload: { username: uniqueName('nul'), password: `${PASSWORD}${NUL}tail` },
        }),
        'password',
      ],
      [
        'email on register',
        () => ({
          method: 'POST',
          url: '/api/auth/register',
          payload: { username: uniqueName('nul'), password: PASSWORD, email: `a${NUL}@example.com` },
        }),
        'email',
      ],
      [
        'username on login',
        () => ({ method: 'POST', url: '/api/auth/login', payload: { username: `nul${NUL}`, password: PASSWORD } }),
        'username',
      ],
      [
        'password on login',
        () => ({ method: 'POST', url: '/api/auth/login', payload: { username: 'someone', password: `${NUL}` } }),
        'password',
      ],
      [
        'name on product create',
        () => ({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: `Wid${NUL}get`, price: 1, quantity: 1 },
        }),
        'name',
      ],
      [
        'description on product create',
        () => ({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: 'Widget', description: `d${NUL}`, price: 1, quantity: 1 },
        }),
        'description',
      ],
      [
        'name on product update',
        () => ({ method: 'PATCH', url: `/api/products/${productId}`, headers: auth, payload: { name: `${NUL}` } }),
        'name',
      ],
      ['q on product list', () => ({ method: 'GET', url: '/api/products?q=%00', headers: auth }), 'q'],
      [
        'refresh_token on refresh',
        () => ({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: `abc${NUL}` } }),
        'refresh_token',
      ],
      [
        'token on verify',
        () => ({ method: 'POST', url: '/api/auth/token/verify', payload: { token: `a.b.c${NUL}` } }),
        'token',
      ],
    ];

    it.each(cases)('in %s', async (_label, request, field) => {
      expectFieldError(await t.app.inject(request()), field);
    });
  });

  describe('field errors are sentences a person understands', () => {
    const register = (payload: Record<string, unknown>): Promise<LightMyRequestResponse> =>
      t.app.inject({ method: 'POST', url: '/api/auth/register', payload });

    it('an empty form names what each field needs, not the schema keyword', async () => {
      const response = await register({ username: '', password: '' });
      expect(expectFieldError(response, 'username')).toBe('Use at least 3 characters.');
      expect(expectFieldError(response, 'password')).toBe('is required');
      expect(response.body).not.toMatch(/must NOT|fewer than|NOT have/);
    });

    it('says which characters a username may use, and what an email address looks like', async () => {
      const response = await register({ username: 'has space', password: PASSWORD, email: 'not-an-address' });
      expect(expectFieldError(response, 'username')).toBe('Use only letters, digits, _ . -');
      expect(expectFieldError(response, 'email')).toBe('Enter an email address such as name@example.com.');
    });

    it('gives the limit of a too-long value and the type a value must have', async () => {
      expect(expectFieldError(await register({ username: 'u'.repeat(51), password: PASSWORD }), 'username')).toBe(
        'Use at most 50 characters.',
      );
      expect(expectFieldError(await register({ username: 42, password: PASSWORD }), 'username')).toBe(
        'must be text (a JSON string)',
      );
    });
  });

  describe('over-long strings are refused', () => {
    it('refuses a 51-character username and accepts 50', async () => {
      const long = await t.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { username: 'u'.repeat(51), password: PASSWORD },
      });
      expectFieldError(long, 'username');
      const fits = await t.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { username: `${uniqueName('max')}_`.padEnd(50, 'x'), password: PASSWORD },
      });
      expect(fits.statusCode, fits.body).toBe(201);
    });

    it('refuses a 101-character product name and accepts 100', async () => {
      expectFieldError(
        await t.app.inject({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: 'n'.repeat(101), price: 1, quantity: 1 },
        }),
        'name',
      );
      expectFieldError(
        await t.app.inject({
          method: 'PUT',
          url: `/api/products/${productId}`,
          headers: auth,
          payload: { name: 'n'.repeat(101) },
        }),
        'name',
      );
      const fits = await t.app.inject({
        method: 'POST',
        url: '/api/products',
        headers: auth,
        payload: { name: 'n'.repeat(100), price: 1, quantity: 1 },
      });
      expect(fits.statusCode, fits.body).toBe(201);
      expect(fits.json().name).toHaveLength(100);
    });

    it('refuses a 256-character description and accepts 255', async () => {
      expectFieldError(
        await t.app.inject({
          method: 'POST',
          url: '/api/products',
          headers: auth,
          payload: { name: 'n', description: 'd'.repeat(256), price: 1, quantity: 1 },
        }),
        'description',
      );
      expectFieldError(
        await t.app.inject({
          method: 'PATCH',
          url: `/api/products/${productId}`,
          headers: auth,
          payload: { description: 'd'.repeat(256) },
        }),
        'description',
      );
      const fits = await t.app.inject({
        method: 'POST',
        url: '/api/products',
        headers: auth,
        payload: { name: 'n', description: 'd'.repeat(255), price: 1, quantity: 1 },
      });
      expect(fits.statusCode, fits.body).toBe(201);
      expect(fits.json().description).toHaveLength(255);
    });

    it('counts characters, not bytes: 100 multi-byte characters fit a product name', async () => {
      const name = 'é'.repeat(50) + '€'.repeat(50);
      const fits = await t.app.inject({
        method: 'POST',
        url: '/api/products',
        headers: auth,
        payload: { name, price: 1, quantity: 1 },
      });
      expect(fits.statusCode, fits.body).toBe(201);
      expect(fits.json().name).toBe(name);
    });
  });

  describe('missing required fields are named "is required"', () => {
    const cases: Array<[string, string, string, Record<string, unknown>, string[]]> = [
      ['register without username', 'POST', '/api/auth/register', { password: PASSWORD }, ['username']],
      ['register without password', 'POST', '/api/auth/register', { username: 'someone' }, ['password']],
      ['register with an empty object', 'POST', '/api/auth/register', {}, ['username', 'password']],
      ['login without password', 'POST', '/api/auth/login', { username: 'someone' }, ['password']],
      ['login with an empty object', 'POST', '/api/auth/login', {}, ['username', 'password']],
      ['product create with an empty object', 'POST', '/api/products', {}, ['name', 'price', 'quantity']],
      ['product create without price', 'POST', '/api/products', { name: 'n', quantity: 1 }, ['price']],
      ['refresh with an empty object', 'POST', '/api/auth/refresh', {}, ['refresh_token']],
      ['token verify with an empty object', 'POST', '/api/auth/token/verify', {}, ['token']],
    ];

    it.each(cases)('%s', async (_label, method, url, payload, fields) => {
      const response = await t.app.inject({
        method: method as Method,
        url,
        headers: url.startsWith('/api/products') ? auth : {},
        payload,
      });
      const body = expectContractError(response, 400, 'validation_failed');
      expect(body.fields).toEqual(Object.fromEntries(fields.map((f) => [f, 'is required'])));
    });
  });

  describe('routes that do not exist', () => {
    it.each([
      ['GET', '/nope'],
      ['GET', '/api/nope'],
      ['POST', '/api/auth/nope'],
      ['DELETE', '/api/auth/login'],
      ['GET', '/api/auth/register'],
    ])('answers %s %s with 404 not_found in the contract format', async (method, url) => {
      const response = await t.app.inject({ method: method as 'GET', url });
      expectContractError(response, 404, 'not_found');
    });

    it('answers a product id that does not exist with 404 not_found', async () => {
      expectContractError(await t.app.inject({ url: '/api/products/2147483647', headers: auth }), 404, 'not_found');
      expectContractError(
        await t.app.inject({ method: 'PUT', url: '/api/products/2147483647', headers: auth, payload: { name: 'x' } }),
        404,
        'not_found',
      );
      expectContractError(
        await t.app.inject({ method: 'DELETE', url: '/api/products/2147483647', headers: auth }),
        404,
        'not_found',
      );
    });

    // These fail inside Fastify's router, before any error handler: they need frameworkErrors.
    it('answers a broken percent-escape in the path with 400 validation_failed in the contract format', async () => {
      expectContractError(
        await t.app.inject({ url: '/api/products/%E0%A4%A', headers: auth }),
        400,
        'validation_failed',
      );
      expectContractError(await t.app.inject({ url: '/api/products/%E0%A4%A' }), 400, 'validation_failed');
    });

    it('answers an over-long path parameter with 400 validation_failed in the contract format', async () => {
      expectContractError(
        await t.app.inject({ url: `/api/products/${'1'.repeat(300)}`, headers: auth }),
        400,
        'validation_failed',
      );
    });
  });

  it('never answers 500 to a matrix of junk bodies on every JSON endpoint', async () => {
    const junk = [
      '{}',
      '{"a":',
      '[1,2',
      'null',
      '0',
      '-',
      '""',
      '{"username":{"$ne":null},"password":{"$ne":null}}',
      '{"name":[],"price":{},"quantity":[]}',
      '['.repeat(2000) + ']'.repeat(2000),
      '{"refresh_token":"' + 'r'.repeat(600) + '"}',
    ];
    const statuses: number[] = [];
    for (const e of endpoints) {
      for (const payload of junk) {
        const response = await send(e, { headers: { 'content-type': 'application/json' }, payload });
        statuses.push(response.statusCode);
        expect(response.statusCode, `${e.name} ${payload.slice(0, 40)}: ${response.body}`).toBeLessThan(500);
        expectContractError(response, response.statusCode, response.json().error);
      }
    }
    expect(statuses.length).toBe(endpoints.length * junk.length);
  });
});
