import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, login, signUp, uniqueName, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';

const dialects = await testDialects();

type Auth = { authorization: string };
const BASE = '/api/admin/oidc/clients';

describe.each(dialects)('OpenID Connect clients in the admin API on %s', (dialect) => {
  let t: TestApp;
  let admin: Session & { username: string };
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { OIDC_SCOPES: 'reports:read' } });
    admin = await signUpAdmin();
  });
  afterAll(async () => t?.close());

  async function signUpAdmin(): Promise<Session & { username: string }> {
    const created = await signUp(t.app, uniqueName('oadmin'));
    await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', created.userId).execute();
    return { ...(await login(t.app, created.username)), username: created.username };
  }
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, headers: Auth, payload?: object) =>
    t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  const create = (payload: object, headers: Auth = admin.auth) => call('POST', BASE, headers, payload);
  const list = async (): Promise<Array<Record<string, unknown>>> => {
    const response = await call('GET', BASE, admin.auth);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().items;
  };
  /** A client_credentials token request at the provider's token endpoint (RFC 6749 §4.4, HTTP Basic §2.3.1). */
  const tokenWith = (id: string, secret: string): Promise<LightMyRequestResponse> =>
    t.app.inject({
      method: 'POST',
      url: '/oidc/token',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: 'grant_type=client_credentials&scope=reports%3Aread',
    });
  const auditOf = async (clientId: string) =>
    (
      await t.database.handle.db
        .selectFrom('audit_events')
        .select(['type', 'user_id', 'detail'])
        .where('type', 'like', 'oidc_client.%')
        .orderBy('id')
        .execute()
    )
      .map((row) => ({ type: row.type, user_id: row.user_id, detail: JSON.parse(row.detail ?? '{}') }))
      .filter((row) => row.detail.client_id === clientId);

  it('creates a confidential client, shows its secret once (no-store), lists it without the secret, audits the admin', async () => {
    const created = await create({
      name: 'Wiki',
      redirect_uris: ['https://wiki.example/callback'],
      post_logout_redirect_uris: ['https://wiki.example/signed-out', 'https://wiki.example/signed-out'],
      scopes: ['openid', 'email'],
      skip_consent: true,
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const body = created.json();
    expect(body).toEqual({
      client_id: expect.any(String),
      name: 'Wiki',
      public: false,
      redirect_uris: ['https://wiki.example/callback'],
      post_logout_redirect_uris: ['https://wiki.example/signed-out'],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid email',
      skip_consent: true,
      created_at: expect.any(String),
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{40,}$/),
    });
    const listed = await list();
    const entry = listed.find((c) => c.client_id === body.client_id);
    expect(entry).toEqual({ ...body, client_secret: undefined });
    expect(JSON.stringify(listed)).not.toContain(body.client_secret);
    expect(await auditOf(body.client_id)).toEqual([
      {
        type: 'oidc_client.created',
        user_id: null,
        detail: { by: admin.userId, client_id: body.client_id, name: 'Wiki', public: false },
      },
    ]);
  });

  it('creates a public client (no secret) and a client_credentials client whose secret the provider accepts', async () => {
    const spa = await create({ name: 'SPA', redirect_uris: ['http://localhost:5173/cb'], public: true });
    expect(spa.statusCode, spa.body).toBe(201);
    expect(spa.json()).toMatchObject({ public: true, client_secret: null, post_logout_redirect_uris: [] });
    // Plain http only on this machine (a developer's application).
    const local = await create({
      name: 'Local SPA',
      redirect_uris: ['http://localhost:5173/cb'],
      post_logout_redirect_uris: ['http://localhost:5173/', 'http://127.0.0.1:5173/bye', 'http://[::1]:5173/'],
      public: true,
    });
    expect(local.statusCode, local.body).toBe(201);

    const machine = await create({ name: 'Reports job', grants: ['client_credentials'], scopes: ['reports:read'] });
    expect(machine.statusCode, machine.body).toBe(201);
    const { client_id: id, client_secret: secret } = machine.json();
    const token = await tokenWith(id, secret);
    expect(token.statusCode, token.body).toBe(200);
    expect(token.json().access_token).toEqual(expect.any(String));
  });

  it('rotates a secret: the new one is shown once and works, the old one stops at once; audited', async () => {
    const machine = (
      await create({ name: 'Rotated', grants: ['client_credentials'], scopes: ['reports:read'] })
    ).json();
    const rotated = await call('POST', `${BASE}/${machine.client_id}/rotate-secret`, admin.auth);
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(rotated.headers['cache-control']).toBe('no-store');
    const { client_secret: fresh } = rotated.json();
    expect(rotated.json()).toEqual({ client_id: machine.client_id, client_secret: expect.any(String) });
    expect(fresh).not.toBe(machine.client_secret);
    expect((await tokenWith(machine.client_id, machine.client_secret)).statusCode).toBe(401);
    expect((await tokenWith(machine.client_id, fresh)).statusCode).toBe(200);
    expect((await auditOf(machine.client_id)).map((row) => [row.type, row.detail.by])).toEqual([
      ['oidc_client.created', admin.userId],
      ['oidc_client.secret_rotated', admin.userId],
    ]);
    expect(JSON.stringify(await list())).not.toContain(fresh);
  });

  it('refuses to rotate a public client (400) and answers 404 for an unknown id', async () => {
    const spa = (await create({ name: 'Public', redirect_uris: ['https://spa.example/cb'], public: true })).json();
    const refused = await call('POST', `${BASE}/${spa.client_id}/rotate-secret`, admin.auth);
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().error).toBe('validation_failed');
    for (const [method, url] of [
      ['POST', `${BASE}/nosuchclient/rotate-secret`],
      ['DELETE', `${BASE}/nosuchclient`],
    ] as const) {
      const missing = await call(method, url, admin.auth);
      expect(missing.statusCode, `${method} ${url}`).toBe(404);
      expect(missing.json().error).toBe('not_found');
    }
    const badId = await call('DELETE', `${BASE}/${encodeURIComponent('a b/../c')}`, admin.auth);
    expect(badId.statusCode).toBe(400);
  });

  it('deletes a client: gone from the list, its secret refused, audited', async () => {
    const machine = (await create({ name: 'Doomed', grants: ['client_credentials'], scopes: ['reports:read'] })).json();
    const deleted = await call('DELETE', `${BASE}/${machine.client_id}`, admin.auth);
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect((await list()).some((c) => c.client_id === machine.client_id)).toBe(false);
    expect((await tokenWith(machine.client_id, machine.client_secret)).statusCode).toBe(401);
    expect((await auditOf(machine.client_id)).map((row) => row.type)).toEqual([
      'oidc_client.created',
      'oidc_client.deleted',
    ]);
  });

  it('refuses bad bodies with 400 naming the body field (the rules of the CLI), and creates nothing', async () => {
    const before = (await list()).length;
    const cases: Array<[object, string]> = [
      [{ name: 'X', redirect_uris: ['https://a.example/cb'], extra: 1 }, 'extra'],
      [{ redirect_uris: ['https://a.example/cb'] }, 'name'],
      [{ name: '', redirect_uris: ['https://a.example/cb'] }, 'name'],
      [{ name: '   ', redirect_uris: ['https://a.example/cb'] }, 'name'],
      [{ name: 'X', redirect_uris: ['https://a.example/cb#frag'] }, 'redirect_uris'],
      [{ name: 'X', redirect_uris: ['not a url'] }, 'redirect_uris'],
      [{ name: 'X', redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris'],
      // A private-use scheme (RFC 8252 §7.1): the provider would refuse it at the first sign-in.
      [{ name: 'X', redirect_uris: ['com.example.app:/callback'] }, 'redirect_uris'],
      [{ name: 'X' }, 'redirect_uris'],
      [{ name: 'X', redirect_uris: ['https://a.example/cb'], grants: ['password'] }, 'grants.0'],
      [{ name: 'X', redirect_uris: ['https://a.example/cb'], public: 'yes' }, 'public'],
      [{ name: 'X', public: true, grants: ['client_credentials'], scopes: ['reports:read'] }, 'grants'],
      [{ name: 'X', redirect_uris: ['https://a.example/cb'], scopes: ['admin:all'] }, 'scopes'],
      [{ name: 'X', redirect_uris: ['https://a.example/cb'], scopes: ['a b'] }, 'scopes.0'],
      [
        { name: 'X', redirect_uris: ['https://a.example/cb'], post_logout_redirect_uris: ['/out'] },
        'post_logout_redirect_uris',
      ],
      [
        { name: 'X', redirect_uris: ['https://a.example/cb'], post_logout_redirect_uris: ['https://a.example/#x'] },
        'post_logout_redirect_uris',
      ],
      [
        { name: 'X', redirect_uris: ['https://a.example/cb'], post_logout_redirect_uris: ['javascript:alert(1)'] },
        'post_logout_redirect_uris',
      ],
      [
        { name: 'X', redirect_uris: ['https://a.example/cb'], post_logout_redirect_uris: ['http://a.example/out'] },
        'post_logout_redirect_uris',
      ],
      [
        { name: 'X', redirect_uris: ['https://a.example/cb'], post_logout_redirect_uris: ['com.example.app:/out'] },
        'post_logout_redirect_uris',
      ],
      [
        { name: 'X', redirect_uris: ['https://a.example/cb'], post_logout_redirect_uris: [''] },
        'post_logout_redirect_uris.0',
      ],
      [
        {
          name: 'X',
          redirect_uris: ['https://a.example/cb'],
          post_logout_redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`),
        },
        'post_logout_redirect_uris',
      ],
      [
        {
          name: 'X',
          grants: ['client_credentials'],
          scopes: ['reports:read'],
          post_logout_redirect_uris: ['https://a.example/out'],
        },
        'post_logout_redirect_uris',
      ],
    ];
    for (const [payload, field] of cases) {
      const refused = await create(payload);
      expect(refused.statusCode, JSON.stringify(payload)).toBe(400);
      expect(refused.json().error).toBe('validation_failed');
      expect(Object.keys(refused.json().fields), `${JSON.stringify(payload)}: ${refused.body}`).toContain(field);
    }
    expect((await list()).length).toBe(before);
  });

  it('refuses every route to a non-administrator (403) and to a caller without a token (401)', async () => {
    const user = await signUp(t.app, uniqueName('onotadmin'));
    const calls = [
      ['GET', BASE],
      ['POST', BASE],
      ['DELETE', `${BASE}/someid`],
      ['POST', `${BASE}/someid/rotate-secret`],
    ] as const;
    for (const [method, url] of calls) {
      const payload = method === 'POST' && url === BASE ? { name: 'X', redirect_uris: ['https://x.example/'] } : {};
      const asUser = await t.app.inject({ method, url, headers: user.auth, payload });
      expect(asUser.statusCode, `${method} ${url}`).toBe(403);
      expect(asUser.json().error).toBe('forbidden');
      const anonymous = await t.app.inject({ method, url, payload });
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
    }
    expect((await list()).some((c) => c.name === 'X')).toBe(false);
  });

  // Last: it moves the test clock past REAUTH_MAX_AGE (300 s by default).
  it('a stale sign-in may list but not create, delete or rotate (403 reauth_required)', async () => {
    const machine = (await create({ name: 'Kept', grants: ['client_credentials'], scopes: ['reports:read'] })).json();
    t.clock.advance(300_000 + 1000);
    expect((await call('GET', BASE, admin.auth)).statusCode).toBe(200);
    const attempts = [
      await create({ name: 'Late', redirect_uris: ['https://late.example/cb'] }),
      await call('DELETE', `${BASE}/${machine.client_id}`, admin.auth),
      await call('POST', `${BASE}/${machine.client_id}/rotate-secret`, admin.auth),
    ];
    for (const refused of attempts) {
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.json().error).toBe('reauth_required');
    }
    const names = (await list()).map((c) => c.name);
    expect(names).toContain('Kept');
    expect(names).not.toContain('Late');
    expect((await tokenWith(machine.client_id, machine.client_secret)).statusCode).toBe(200);
  });
});

describe('OpenID Connect clients in the admin API when the provider is off', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Production without OIDC_SIGNING_KEYS_FILE: no provider (docs/oidc.md).
    t = await buildTestApp({ env: { NODE_ENV: 'production', PUBLIC_URL: 'https://auth.example' } });
  });
  afterAll(async () => t?.close());

  it('answers 404 with a sentence saying the provider is off, to an administrator only', async () => {
    const created = await signUp(t.app, uniqueName('offadmin'));
    await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', created.userId).execute();
    const admin = await login(t.app, created.username);
    const answer = await t.app.inject({ url: BASE, headers: admin.auth });
    expect(answer.statusCode, answer.body).toBe(404);
    expect(answer.json()).toEqual({ error: 'not_found', message: expect.stringMatching(/provider is off/) });
    const user = await signUp(t.app, uniqueName('offuser'));
    expect((await t.app.inject({ url: BASE, headers: user.auth })).statusCode).toBe(403);
  });
});
