import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, signUp, uniqueName, type Session, type TestApp } from '../support/app.js';
import { claimsOf, enableTOTP, nextStep, passwordLogin, secondStep, totpNow } from '../support/two-factor.js';

/** Ids, names and timestamps differ between two calls; everything else must be identical. */
function withoutVolatile(body: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, username: _username, created_at: _created, updated_at: _updated, ...rest } = body;
  return rest;
}

function sameAnswer(compat: LightMyRequestResponse, canonical: LightMyRequestResponse): void {
  expect(compat.statusCode).toBe(canonical.statusCode);
  expect(compat.headers['content-type']).toBe(canonical.headers['content-type']);
}

describe('original Flask API routes answer like their canonical twins (sqlite)', () => {
  let t: TestApp;
  let session: Session & { username: string };
  beforeAll(async () => {
    t = await buildTestApp();
    session = await signUp(t.app);
  });
  afterAll(async () => t?.close());

  it('POST /register creates an account like POST /api/auth/register', async () => {
    const compat = await t.app.inject({
      method: 'POST',
      url: '/register',
      payload: { username: uniqueName('flask'), password: PASSWORD },
    });
    const canonical = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { username: uniqueName('api'), password: PASSWORD },
    });
    sameAnswer(compat, canonical);
    expect(compat.statusCode).toBe(201);
    expect(Object.keys(compat.json()).sort()).toEqual(Object.keys(canonical.json()).sort());
    expect(withoutVolatile(compat.json())).toEqual(withoutVolatile(canonical.json()));
    const row = await t.database.handle.db
      .selectFrom('users')
      .select('username')
      .where('id', '=', compat.json().id)
      .executeTakeFirst();
    expect(row?.username).toBe(compat.json().username);
  });

  it('POST /register refuses a taken name and bad input with the same errors', async () => {
    for (const payload of [
      { username: session.username, password: PASSWORD },
      { username: 'x', password: PASSWORD },
      { password: PASSWORD },
    ]) {
      const compat = await t.app.inject({ method: 'POST', url: '/register', payload });
      const canonical = await t.app.inject({ method: 'POST', url: '/api/auth/register', payload });
      sameAnswer(compat, canonical);
      expect(compat.statusCode).toBeGreaterThanOrEqual(400);
      expect(compat.json()).toEqual(canonical.json());
    }
    const taken = await t.app.inject({
      method: 'POST',
      url: '/register',
      payload: { username: session.username, password: PASSWORD },
    });
    expect(taken.json()).toEqual({ error: 'username_taken', message: expect.any(String) });
  });

  it('POST /login returns tokens (with access_token) like POST /api/auth/login', async () => {
    const compat = await t.app.inject({
      method: 'POST',
      url: '/login',
      payload: { username: session.username, password: PASSWORD },
    });
    const canonical = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: session.username, password: PASSWORD },
    });
    sameAnswer(compat, canonical);
    expect(compat.statusCode).toBe(200);
    const tokens = compat.json();
    expect(tokens).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 600,
      refresh_token: expect.any(String),
      '2fa_required': false,
      user: canonical.json().user,
    });
    expect(tokens.access_token).not.toBe(canonical.json().access_token);

    const me = await t.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.statusCode).toBe(200);
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: tokens.refresh_token },
    });
    expect(refreshed.statusCode).toBe(200);
  });

  it('POST /login refuses bad credentials and bad input with the same errors', async () => {
    const payloads = [
      { username: session.username, password: 'not the password' },
      { username: uniqueName('ghost'), password: 'not the password' },
      { username: session.username },
    ];
    for (const payload of payloads) {
      const compat = await t.app.inject({ method: 'POST', url: '/login', payload });
      const canonical = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload });
      sameAnswer(compat, canonical);
      expect(compat.json()).toEqual(canonical.json());
    }
    const wrong = await t.app.inject({ method: 'POST', url: '/login', payload: payloads[0] });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: 'invalid_credentials', message: expect.any(String) });
  });

  it('GET /protected answers like GET /api/protected, with and without a token', async () => {
    const compat = await t.app.inject({ url: '/protected', headers: session.auth });
    const canonical = await t.app.inject({ url: '/api/protected', headers: session.auth });
    sameAnswer(compat, canonical);
    expect(compat.statusCode).toBe(200);
    expect(compat.json()).toEqual(canonical.json());
    expect(compat.json()).toMatchObject({
      message: expect.any(String),
      user: { id: session.userId, username: session.username },
    });

    for (const headers of [{}, { authorization: 'Bearer garbage' }]) {
      const refused = await t.app.inject({ url: '/protected', headers });
      const canonicalRefused = await t.app.inject({ url: '/api/protected', headers });
      sameAnswer(refused, canonicalRefused);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toEqual(canonicalRefused.json());
      expect(refused.json().error).toBe('unauthorized');
    }
  });

  describe('products', () => {
    it('GET /products is the plain array of what GET /api/products lists', async () => {
      for (let i = 0; i < 25; i++) {
        const created = await t.app.inject({
          method: 'POST',
          url: '/api/products',
          headers: session.auth,
          payload: { name: `Listed ${i}`, price: i + 0.5, quantity: i },
        });
        expect(created.statusCode).toBe(201);
      }
      const compat = await t.app.inject({ url: '/products', headers: session.auth });
      expect(compat.statusCode).toBe(200);
      expect(compat.headers['content-type']).toMatch(/^application\/json/);
      const array = compat.json();
      expect(Array.isArray(array)).toBe(true);
      const canonical = (await t.app.inject({ url: '/api/products?limit=100', headers: session.auth })).json();
      // The original API returned every product, not a first page of 20.
      expect(array).toHaveLength(canonical.total);
      expect(array).toEqual(canonical.items);
    });

    it('POST, GET, PUT and DELETE /products/:id behave like their /api twins', async () => {
      const payload = { name: 'Compat lamp', description: 'From the Flask client', price: 1.15, quantity: 2 };
      const compatCreated = await t.app.inject({ method: 'POST', url: '/products', headers: session.auth, payload });
      const canonicalCreated = await t.app.inject({
        method: 'POST',
        url: '/api/products',
        headers: session.auth,
        payload,
      });
      sameAnswer(compatCreated, canonicalCreated);
      expect(compatCreated.statusCode).toBe(201);
      expect(compatCreated.body).toContain('"price":1.15');
      expect(withoutVolatile(compatCreated.json())).toEqual(withoutVolatile(canonicalCreated.json()));
      const id = compatCreated.json().id;

      const compatRead = await t.app.inject({ url: `/products/${id}`, headers: session.auth });
      const canonicalRead = await t.app.inject({ url: `/api/products/${id}`, headers: session.auth });
      sameAnswer(compatRead, canonicalRead);
      expect(compatRead.body).toBe(canonicalRead.body);

      t.clock.advance(1000);
      const updated = await t.app.inject({
        method: 'PUT',
        url: `/products/${id}`,
        headers: session.auth,
        payload: { quantity: 5 },
      });
      expect(updated.statusCode).toBe(200);
      expect(updated.json()).toEqual({ ...compatCreated.json(), quantity: 5, updated_at: t.clock.now().toISOString() });
      expect((await t.app.inject({ url: `/api/products/${id}`, headers: session.auth })).json()).toEqual(
        updated.json(),
      );

      const deleted = await t.app.inject({ method: 'DELETE', url: `/products/${id}`, headers: session.auth });
      expect(deleted.statusCode).toBe(204);
      expect(deleted.body).toBe('');
      const compatGone = await t.app.inject({ url: `/products/${id}`, headers: session.auth });
      const canonicalGone = await t.app.inject({ url: `/api/products/${id}`, headers: session.auth });
      sameAnswer(compatGone, canonicalGone);
      expect(compatGone.statusCode).toBe(404);
      expect(compatGone.json()).toEqual(canonicalGone.json());
      expect(compatGone.json().error).toBe('not_found');
    });

    it('answers errors in the contract format, exactly like the /api routes', async () => {
      const existing = (
        await t.app.inject({
          method: 'POST',
          url: '/api/products',
          headers: session.auth,
          payload: { name: 'Target', price: 3, quantity: 1 },
        })
      ).json();
      const cases: Array<{
        method: 'GET' | 'POST' | 'PUT' | 'DELETE';
        path: string;
        payload?: object;
        headers?: Record<string, string>;
      }> = [
        { method: 'POST', path: '', payload: { name: 'Bad', price: 1.155, quantity: 1 } },
        { method: 'POST', path: '', payload: { name: 'Bad', price: -1, quantity: 1 } },
        { method: 'POST', path: '', payload: { price: 1, quantity: 1 } },
        { method: 'PUT', path: `/${existing.id}`, payload: { price: 100000000 } },
        { method: 'PUT', path: '/2147483000', payload: { quantity: 1 } },
        { method: 'DELETE', path: '/2147483000' },
        { method: 'GET', path: '/abc' },
        { method: 'GET', path: '', headers: {} },
        { method: 'POST', path: '', payload: { name: 'No token', price: 1, quantity: 1 }, headers: {} },
      ];
      for (const c of cases) {
        const headers = c.headers ?? session.auth;
        const compat = await t.app.inject({
          method: c.method,
          url: `/products${c.path}`,
          headers,
          ...(c.payload ? { payload: c.payload } : {}),
        });
        const canonical = await t.app.inject({
          method: c.method,
          url: `/api/products${c.path}`,
          headers,
          ...(c.payload ? { payload: c.payload } : {}),
        });
        const label = `${c.method} /products${c.path}`;
        expect(compat.statusCode, label).toBeGreaterThanOrEqual(400);
        expect(compat.statusCode, label).toBe(canonical.statusCode);
        expect(compat.json(), label).toEqual(canonical.json());
        expect(
          Object.keys(compat.json()).every((key) => ['error', 'message', 'fields'].includes(key)),
          label,
        ).toBe(true);
      }
      const invalidJson = await t.app.inject({
        method: 'POST',
        url: '/products',
        headers: { ...session.auth, 'content-type': 'application/json' },
        payload: '{"name":',
      });
      expect(invalidJson.statusCode).toBe(400);
      expect(invalidJson.json()).toEqual({ error: 'invalid_json', message: expect.any(String) });
      expect((await t.app.inject({ url: `/api/products/${existing.id}`, headers: session.auth })).json()).toEqual(
        existing,
      );
    });
  });

  it('applies PRODUCT_WRITE_ROLES to the compatibility routes too', async () => {
    const restricted = await buildTestApp({ env: { PRODUCT_WRITE_ROLES: 'admin' } });
    try {
      const user = await signUp(restricted.app);
      expect((await restricted.app.inject({ url: '/products', headers: user.auth })).statusCode).toBe(200);
      const created = await restricted.app.inject({
        method: 'POST',
        url: '/products',
        headers: user.auth,
        payload: { name: 'Nope', price: 1, quantity: 1 },
      });
      expect(created.statusCode).toBe(403);
      expect(created.json()).toEqual({ error: 'forbidden', message: expect.any(String) });
    } finally {
      await restricted.close();
    }
  });
});

describe("the FastAPI app's login shape (sqlite)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t?.close());

  function fastApiSecondStep(body: Record<string, string>): Promise<LightMyRequestResponse> {
    return t.app.inject({ method: 'POST', url: '/api/auth/2fa/login', payload: body });
  }

  it('the password step says 2fa_required with a login_token, and 2fa/login takes login_token and otp', async () => {
    const a = await signUp(t.app);
    const { secret } = await enableTOTP(t, a);
    const first = (await passwordLogin(t, a.username)).json();
    expect(first).toMatchObject({ '2fa_required': true, mfa_required: true, login_token: first.mfa_token });

    const second = await fastApiSecondStep({ login_token: first.login_token, otp: totpNow(t, secret) });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({
      access_token: expect.any(String),
      '2fa_required': false,
      user: { id: a.userId },
    });
    expect((await claimsOf(t, second.json().access_token)).amr).toEqual(['pwd', 'otp']);
    // The login_token is the mfa_token: spent once, under either name.
    nextStep(t);
    const again = await secondStep(t, first.mfa_token, totpNow(t, secret));
    expect(again.json()).toEqual({ error: 'mfa_token_invalid', message: expect.any(String) });
  });

  it('a login without 2FA says 2fa_required false; the names mix, and conflicting or missing ones are 400', async () => {
    const a = await signUp(t.app);
    expect((await passwordLogin(t, a.username)).json()).toMatchObject({
      '2fa_required': false,
      access_token: expect.any(String),
    });
    const { secret } = await enableTOTP(t, a);
    const first = (await passwordLogin(t, a.username)).json();

    const missingToken = await fastApiSecondStep({ otp: '123456' });
    expect(missingToken.statusCode).toBe(400);
    expect(missingToken.json()).toEqual({
      error: 'validation_failed',
      message: 'mfa_token is required.',
      fields: { mfa_token: 'is required' },
    });
    const missingCode = await fastApiSecondStep({ login_token: first.login_token });
    expect(missingCode.json()).toEqual({
      error: 'validation_failed',
      message: 'code is required.',
      fields: { code: 'is required' },
    });
    const conflicting = await fastApiSecondStep({
      mfa_token: first.mfa_token,
      login_token: 'x'.repeat(43),
      otp: totpNow(t, secret),
    });
    expect(conflicting.statusCode).toBe(400);
    expect(conflicting.json().fields).toEqual({ login_token: 'must equal mfa_token when both are sent' });

    const mixed = await fastApiSecondStep({ mfa_token: first.mfa_token, otp: totpNow(t, secret) });
    expect(mixed.statusCode).toBe(200);
  });
});

describe("the HTML apps' page addresses (sqlite)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t?.close());

  const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

  it.each([
    ['/register', '/app/register'],
    ['/login', '/app/login'],
    ['/token_input', '/app/token'],
    ['/token', '/app/token'],
    ['/verify', '/app/verify'],
  ])('a browser opening %s goes to %s, without the query', async (from, to) => {
    const page = await t.app.inject({ url: `${from}?token=secret-looking`, headers: { accept: browserAccept } });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe(to);
    expect(page.headers.vary).toContain('Accept');
    // An API client asking for the same address gets the contract's 404, not a redirect to HTML.
    const api = await t.app.inject({ url: from, headers: { accept: 'application/json' } });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toEqual({ error: 'not_found', message: `${from} is a page: open ${to} in a browser.` });
  });

  it('the same paths still answer POST as the JSON API', async () => {
    const name = uniqueName('html');
    const registered = await t.app.inject({
      method: 'POST',
      url: '/register',
      headers: { accept: browserAccept },
      payload: { username: name, password: PASSWORD },
    });
    expect(registered.statusCode).toBe(201);
    const signedIn = await t.app.inject({
      method: 'POST',
      url: '/login',
      headers: { accept: browserAccept },
      payload: { username: name, password: PASSWORD },
    });
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.json().access_token).toEqual(expect.any(String));
  });
});
