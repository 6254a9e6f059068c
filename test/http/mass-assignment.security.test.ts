import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, login, signUp, uniqueName, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { exampleOf, loadApiDocument, urlOf, type ApiDocument, type Operation } from '../support/openapi.js';
import { challenge, enableTOTP } from '../support/two-factor.js';

/**
 * Mass assignment (OWASP Mass Assignment Cheat Sheet; the HTTP contract "Security rules"): every operation
 * of the published OpenAPI document refuses a field it does not declare with 400
 * validation_failed naming it, and nothing changes. The operations come from `GET /openapi.json`,
 * so a new route is tested without being listed; one that cannot be exercised fails the suite.
 */

const PRIVILEGED = [
  'role',
  'id',
  'user_id',
  'email_verified',
  'mfa_enabled',
  'locked',
  'locked_until',
  'created_at',
  'is_admin',
  'permissions',
];
const PRIVILEGED_VALUES: Record<string, unknown> = {
  role: 'admin',
  id: 1,
  user_id: 1,
  email_verified: true,
  mfa_enabled: true,
  locked: false,
  locked_until: null,
  created_at: '2000-01-01T00:00:00Z',
  is_admin: true,
  permissions: ['*'],
};

type Auth = 'none' | 'user' | 'admin';

interface Fixtures {
  user: Session & { username: string };
  admin: Session & { username: string };
  twoFactorUser: Session & { username: string };
  mfaToken: string;
  productId: number;
}

interface OperationFixture {
  auth: Auth;
  params?: (f: Fixtures) => Record<string, number | string>;
  /** Values for fields whose meaning matters; the rest is built from the schema. */
  body?: (f: Fixtures) => Record<string, unknown>;
  /** Fields the operation legitimately takes even though they look privileged. */
  allowed?: string[];
  /** A query operation that is no list: the query it needs and how it answers (default `limit=5`, 200). */
  declared?: { query: Record<string, string>; status: number };
}

const self = (f: Fixtures) => ({ id: f.user.userId });
const product = (f: Fixtures) => ({ id: f.productId });

/** A well-formed (not valid) credential JSON: the passkey routes' bodies reach validation with it. */
const PASSKEY_REGISTRATION = {
  id: 'AAAA',
  rawId: 'AAAA',
  type: 'public-key',
  response: { clientDataJSON: 'e30', attestationObject: 'oA' },
  clientExtensionResults: {},
};
const PASSKEY_ASSERTION = {
  id: 'AAAA',
  rawId: 'AAAA',
  type: 'public-key',
  response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' },
  clientExtensionResults: {},
};

/** Every operation with a request body, and what it needs to reach validation. */
const FIXTURES: Record<string, OperationFixture> = {
  'POST /api/auth/register': { auth: 'none', body: () => ({ username: uniqueName('ma'), password: PASSWORD }) },
  'POST /register': { auth: 'none', body: () => ({ username: uniqueName('ma'), password: PASSWORD }) },
  'POST /api/auth/login': { auth: 'none', body: (f) => ({ username: f.user.username, password: PASSWORD }) },
  'POST /login': { auth: 'none', body: (f) => ({ username: f.user.username, password: PASSWORD }) },
  'POST /api/auth/password/change': {
    auth: 'user',
    body: () => ({ current_password: PASSWORD, new_password: 'another long passphrase' }),
  },
  'POST /api/auth/password/forgot': { auth: 'none' },
  'POST /api/auth/password/reset': { auth: 'none' },
  'POST /api/auth/password/reset/check': { auth: 'none' },
  'POST /api/auth/email/verify': { auth: 'none' },
  'POST /api/auth/email/verify/resend': { auth: 'none' },
  'POST /api/auth/email/change': { auth: 'user', body: () => ({ email: `${uniqueName('ma')}@example.com` }) },
  'POST /generate-2fa': { auth: 'none', body: () => ({ email: 'mass-assignment@example.com' }) },
  'POST /verify': { auth: 'none', body: () => ({ email: 'mass-assignment@example.com', code: '000000' }) },
  'POST /api/auth/2fa/login': { auth: 'none', body: (f) => ({ mfa_token: f.mfaToken, code: '000000' }) },
  'POST /api/auth/2fa/email/send': { auth: 'none', body: (f) => ({ mfa_token: f.mfaToken }) },
  'POST /api/auth/2fa/passkey/options': { auth: 'none', body: (f) => ({ mfa_token: f.mfaToken }) },
  'POST /api/auth/2fa/verify-setup': { auth: 'user', body: () => ({ code: '000000' }) },
  'POST /api/auth/2fa/setup': { auth: 'user', body: () => ({ name: 'Phone' }) },
  'PATCH /api/auth/2fa/authenticators/{id}': {
    auth: 'user',
    params: () => ({ id: 1 }),
    body: () => ({ name: 'Phone' }),
  },
  'POST /api/auth/2fa/email/verify-setup': { auth: 'user', body: () => ({ code: '000000' }) },
  'POST /api/auth/2fa/backup-codes': { auth: 'user', body: () => ({ password: PASSWORD }) },
  'POST /api/auth/2fa/disable': { auth: 'user', body: () => ({ password: PASSWORD, code: '000000' }) },
  'POST /api/auth/reauth': { auth: 'user', body: () => ({ password: PASSWORD }) },
  'POST /api/auth/passkeys/register/options': { auth: 'user' },
  'POST /api/auth/passkeys/reauth/options': { auth: 'user' },
  'POST /api/auth/passkeys/register/verify': { auth: 'user', body: () => ({ response: PASSKEY_REGISTRATION }) },
  // The OpenID Connect sign-in step: the body is refused before any interaction is looked up.
  'POST /api/oidc/interaction/{uid}/login': { auth: 'user', params: () => ({ uid: 'a'.repeat(21) }) },
  'POST /api/oidc/interaction/{uid}/consent': { auth: 'user', params: () => ({ uid: 'a'.repeat(21) }) },
  'POST /api/oidc/interaction/{uid}/abort': { auth: 'none', params: () => ({ uid: 'a'.repeat(21) }) },
  'PATCH /api/auth/passkeys/{id}': { auth: 'user', params: () => ({ id: 1 }), body: () => ({ name: 'Key' }) },
  'POST /api/auth/passkeys/login/options': { auth: 'none', body: () => ({ username: 'nobody' }) },
  'POST /api/auth/passkeys/login/verify': {
    auth: 'none',
    body: () => ({ flow_token: 'not-a-flow', response: PASSKEY_ASSERTION }),
  },
  // The valid body deletes the account: only its refusals run here (the snapshot proves none got through).
  'DELETE /api/user/me': { auth: 'user', body: (f) => ({ confirm: f.user.username }) },
  'PATCH /api/admin/users/{id}': {
    auth: 'admin',
    params: self,
    body: () => ({ role: 'user' }),
    allowed: ['role', 'locked'],
  },
  'POST /api/admin/oidc/clients': {
    auth: 'admin',
    body: () => ({
      name: 'Smuggler',
      redirect_uris: ['https://rp.example/callback'],
      grants: ['authorization_code'],
      scopes: ['openid'],
    }),
  },
  'POST /api/auth/refresh': { auth: 'none', body: (f) => ({ refresh_token: f.user.refreshToken }) },
  'POST /api/auth/logout': { auth: 'none', body: (f) => ({ refresh_token: f.user.refreshToken }) },
  'POST /api/auth/token/verify': { auth: 'none', body: (f) => ({ token: f.user.accessToken }) },
  'POST /api/products': { auth: 'user', body: () => ({ name: 'Smuggler', price: 1, quantity: 1 }) },
  'POST /products': { auth: 'user', body: () => ({ name: 'Smuggler', price: 1, quantity: 1 }) },
  'PUT /api/products/{id}': { auth: 'user', params: product, body: () => ({ name: 'Renamed' }) },
  'PATCH /api/products/{id}': { auth: 'user', params: product, body: () => ({ name: 'Renamed' }) },
  'PUT /products/{id}': { auth: 'user', params: product, body: () => ({ name: 'Renamed' }) },
};

/** Query strings: the path parameters the operations need (their query parameters all have defaults). */
const QUERY_FIXTURES: Record<string, OperationFixture> = {
  'GET /api/admin/users': { auth: 'admin' },
  'GET /api/admin/audit': { auth: 'admin' },
  'GET /api/products': { auth: 'user' },
  'GET /products': { auth: 'user' },
  // Forward authentication: no cookie, so 401; the return address outside FORWARD_AUTH_DOMAINS, so to `/`.
  'GET /api/auth/forward': { auth: 'none', declared: { query: { redirect: '1' }, status: 401 } },
  'GET /api/auth/forward/return': { auth: 'none', declared: { query: { url: 'https://example.com/' }, status: 302 } },
};

const dialects = await testDialects();

describe.each(dialects)('mass assignment is refused everywhere on %s', (dialect) => {
  let t: TestApp;
  let api: ApiDocument;
  let f: Fixtures;

  beforeAll(async () => {
    t = await buildTestApp({ dialect });
    api = await loadApiDocument(t.app);
    const user = await signUp(t.app, uniqueName('ma'));
    const admin = await signUp(t.app, uniqueName('maadmin'));
    await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.userId).execute();
    const twoFactorUser = await signUp(t.app, uniqueName('ma2fa'));
    await enableTOTP(t, twoFactorUser);
    const mfaToken = await challenge(t, twoFactorUser.username);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/products',
      headers: user.auth,
      payload: { name: 'Widget', price: 1.5, quantity: 2 },
    });
    expect(created.statusCode).toBe(201);
    f = {
      user,
      admin: { ...admin, ...(await login(t.app, admin.username)) },
      twoFactorUser,
      mfaToken,
      productId: created.json().id,
    };
  }, 60_000);
  afterAll(async () => t?.close());

  const headersFor = (auth: Auth): Record<string, string> =>
    auth === 'none' ? {} : auth === 'user' ? f.user.auth : f.admin.auth;

  /** What an attacker could hope to change: accounts (roles, locks, verification, 2FA), sessions, products. */
  async function snapshot(): Promise<unknown> {
    const users = await t.app.inject({ url: '/api/admin/users?limit=100', headers: f.admin.auth });
    const products = await t.app.inject({ url: '/api/products?limit=100', headers: f.user.auth });
    const sessions = await t.app.inject({ url: '/api/auth/sessions', headers: f.user.auth });
    const me = await t.app.inject({ url: '/api/user/me', headers: f.user.auth });
    for (const r of [users, products, sessions, me]) expect(r.statusCode, r.body).toBe(200);
    return {
      users: (users.json().items as Array<Record<string, unknown>>).map(({ last_login_at: _ignored, ...rest }) => rest),
      total: users.json().total,
      products: products.json(),
      sessions: sessions.json().sessions.map((s: { id: number }) => s.id),
      me: me.json(),
    };
  }

  function expectRefused(response: LightMyRequestResponse, field: string, why = 'is not allowed'): void {
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toEqual({
      error: 'validation_failed',
      message: expect.any(String),
      fields: { [field]: why },
    });
  }

  function send(
    operation: Operation,
    fixture: OperationFixture,
    body: unknown,
    query: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    return t.app.inject({
      method: operation.method,
      url: urlOf(operation.path, fixture.params?.(f), query),
      headers: headersFor(fixture.auth),
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
  }

  it('has a fixture for every operation that takes a body or a query, so none is skipped', () => {
    const withBody = api.operations.filter((o) => o.bodySchema).map((o) => o.key);
    expect(withBody.length).toBeGreaterThan(10);
    expect(
      withBody.filter((key) => !FIXTURES[key]),
      'operations with a body and no fixture: add one to FIXTURES',
    ).toEqual([]);
    const withQuery = api.operations.filter((o) => o.queryParams.length > 0).map((o) => o.key);
    expect(
      withQuery.filter((key) => !QUERY_FIXTURES[key]),
      'operations with a query and no fixture: add one to QUERY_FIXTURES',
    ).toEqual([]);
  });

  it('refuses every privileged-looking field on every operation with a body, naming it, and changes nothing', async () => {
    const before = await snapshot();
    let checked = 0;
    for (const operation of api.operations.filter((o) => o.bodySchema)) {
      const fixture = FIXTURES[operation.key];
      if (!fixture) throw new Error(`no fixture for ${operation.key}`);
      const valid = { ...(exampleOf(operation.bodySchema!) as Record<string, unknown>), ...fixture.body?.(f) };
      for (const field of PRIVILEGED.filter((name) => !fixture.allowed?.includes(name))) {
        const response = await send(operation, fixture, { ...valid, [field]: PRIVILEGED_VALUES[field] });
        expect.soft(response.statusCode, `${operation.key} with ${field}: ${response.body}`).toBe(400);
        if (response.statusCode === 400) expectRefused(response, field);
        checked += 1;
      }
      // Nested objects are closed too: the unknown field is named by its path.
      const nested = await send(operation, fixture, { ...valid, profile: { role: 'admin' } });
      expectRefused(nested, 'profile');
    }
    expect(checked).toBeGreaterThan(100);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses unknown query parameters on every operation that reads a query, naming them', async () => {
    const before = await snapshot();
    for (const operation of api.operations.filter((o) => o.queryParams.length > 0)) {
      const fixture = QUERY_FIXTURES[operation.key]!;
      for (const field of ['role', 'is_admin', 'user_id'].filter(
        (name) => !operation.queryParams.some((p) => p.name === name),
      )) {
        expectRefused(await send(operation, fixture, undefined, { ...fixture.declared?.query, [field]: '1' }), field);
      }
      // The declared ones still work.
      const declared = fixture.declared ?? { query: { limit: '5' }, status: 200 };
      expect((await send(operation, fixture, undefined, declared.query)).statusCode).toBe(declared.status);
    }
    expect(await snapshot()).toEqual(before);
  });

  for (const url of ['/api/auth/register', '/register']) {
    it(`nobody can register as an administrator (${url})`, async () => {
      const username = uniqueName('mallory');
      for (const role of ['admin', 'user', 'superuser']) {
        expectRefused(
          await t.app.inject({ method: 'POST', url, payload: { username, password: PASSWORD, role } }),
          'role',
        );
      }
      // Prototype tricks do not smuggle a role either: the body is refused outright.
      for (const raw of [
        `{"username":"${username}","password":"${PASSWORD}","__proto__":{"role":"admin"}}`,
        `{"username":"${username}","password":"${PASSWORD}","constructor":{"prototype":{"role":"admin"}}}`,
      ]) {
        const response = await t.app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json' },
          payload: raw,
        });
        expect(response.statusCode, response.body).toBe(400);
        expect(['validation_failed', 'invalid_json']).toContain(response.json().error);
      }
      expect(
        (await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: PASSWORD } }))
          .statusCode,
      ).toBe(401);
      // The same registration without the field creates a plain user.
      const created = await t.app.inject({ method: 'POST', url, payload: { username, password: PASSWORD } });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json().role).toBe('user');
    });
  }

  it('closes optional bodies like any other', async () => {
    expectRefused(await t.app.inject({ method: 'POST', url: '/api/auth/logout', payload: { role: 'admin' } }), 'role');
    expectRefused(
      await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/email/send',
        headers: f.user.auth,
        payload: { user_id: f.admin.userId },
      }),
      'user_id',
    );
  });

  it('names an unknown field called like an Object.prototype member exactly like any other', async () => {
    for (const field of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { username: uniqueName('proto'), password: PASSWORD, [field]: { role: 'admin' } },
      });
      expectRefused(response, field);
    }
  });

  it('lets an administrator set only the roles the server knows, and nothing else about a user', async () => {
    const target = await signUp(t.app, uniqueName('target'));
    const patch = (payload: unknown) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/admin/users/${target.userId}`,
        headers: f.admin.auth,
        payload: payload as Record<string, unknown>,
      });
    const before = await snapshot();
    for (const role of [
      'superuser',
      'root',
      'ADMIN',
      'Admin',
      ' admin',
      '',
      'admin\u0000',
      1,
      true,
      null,
      ['admin'],
      { name: 'admin' },
    ]) {
      const response = await patch({ role });
      expect(response.statusCode, `role ${JSON.stringify(role)}: ${response.body}`).toBe(400);
      expect(Object.keys(response.json().fields)).toEqual(['role']);
    }
    for (const field of PRIVILEGED.filter((name) => name !== 'role' && name !== 'locked')) {
      expectRefused(await patch({ role: 'admin', [field]: PRIVILEGED_VALUES[field] }), field);
    }
    expect(await snapshot()).toEqual(before);
    // The two fields it does take still work.
    const promoted = await patch({ role: 'admin' });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json().role).toBe('admin');
  });
});
