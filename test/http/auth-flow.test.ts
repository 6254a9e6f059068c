import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, login, register, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';

const dialects = await testDialects();

describe.each(dialects)('accounts and sessions over HTTP on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  it('registers, signs in by username or email, and answers /me and /protected', async () => {
    const username = uniqueName('Ann');
    const email = `${username.toLowerCase()}@example.com`;
    const created = await register(t.app, username, PASSWORD, email);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      username,
      email,
      role: 'user',
      email_verified: false,
      mfa_enabled: false,
      mfa_methods: [],
    });
    expect(created.json().created_at).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);

    const byEmail = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: email.toUpperCase(), password: PASSWORD },
    });
    expect(byEmail.statusCode).toBe(200);
    const tokens = byEmail.json();
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 600, user: { username } });
    expect(tokens.refresh_token.length).toBeGreaterThanOrEqual(43);

    const me = await t.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.statusCode).toBe(200);
    expect(me.json().id).toBe(created.json().id);

    const session = await login(t.app, username.toUpperCase());
    const protectedRes = await t.app.inject({ url: '/api/protected', headers: session.auth });
    expect(protectedRes.statusCode).toBe(200);
    expect(protectedRes.json()).toMatchObject({ message: expect.any(String), user: { username } });
  });

  it('treats usernames case-insensitively: Alice and alice are one account', async () => {
    const name = uniqueName('Case');
    expect((await register(t.app, name)).statusCode).toBe(201);
    const again = await register(t.app, name.toLowerCase());
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ error: 'username_taken', message: expect.any(String) });
  });

  it('refuses a second account with the same email as email_taken', async () => {
    const email = `${uniqueName('dup')}@example.com`;
    expect((await register(t.app, uniqueName(), PASSWORD, email)).statusCode).toBe(201);
    const again = await register(t.app, uniqueName(), PASSWORD, email.toUpperCase());
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('email_taken');
  });

  it('answers unknown user and wrong password with the same body', async () => {
    const { username } = await signUp(t.app);
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password: 'not the password' },
    });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: uniqueName('ghost'), password: 'not the password' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().error).toBe('invalid_credentials');
  });

  it('rotates refresh tokens: the new one works, the old one is spent', async () => {
    const session = await signUp(t.app);
    const first = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: session.refreshToken },
    });
    expect(first.statusCode).toBe(200);
    const rotated = first.json();
    expect(rotated.refresh_token).not.toBe(session.refreshToken);
    const me = await t.app.inject({
      url: '/api/user/me',
      headers: { authorization: `Bearer ${rotated.access_token}` },
    });
    expect(me.statusCode).toBe(200);

    // The old token is spent: presented again it buys nothing.
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: session.refreshToken },
    });
    expect(again.statusCode).toBe(401);
    expect(again.json()).toEqual({ error: 'refresh_token_invalid', message: expect.any(String) });

    // Same client, at once: a duplicate inside the grace window (REFRESH_REUSE_GRACE), so the new token still works.
    // What a replay from elsewhere or later does is in refresh-rotation.security.test.ts.
    const second = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: rotated.refresh_token },
    });
    expect(second.statusCode).toBe(200);
    expect(second.json().refresh_token).not.toBe(rotated.refresh_token);
  });

  it('signs out one session with logout, and every session with logout-all', async () => {
    const a = await signUp(t.app);
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      payload: { refresh_token: a.refreshToken },
    });
    expect(out.statusCode).toBe(204);
    expect((await t.app.inject({ url: '/api/user/me', headers: a.auth })).statusCode).toBe(401);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: a.refreshToken } }))
        .statusCode,
    ).toBe(401);

    const b = await signUp(t.app);
    const b2 = await login(t.app, b.username);
    const all = await t.app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: b.auth });
    expect(all.statusCode).toBe(204);
    for (const s of [b, b2]) {
      expect((await t.app.inject({ url: '/api/user/me', headers: s.auth })).statusCode).toBe(401);
      expect(
        (await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: s.refreshToken } }))
          .statusCode,
      ).toBe(401);
    }
  });

  it("moves the session's last use and expiry on refresh at most once a minute", async () => {
    const session = await signUp(t.app);
    const lastUsed = async (auth: Record<string, string>): Promise<string> => {
      const list = (await t.app.inject({ url: '/api/auth/sessions', headers: auth })).json();
      return list.sessions.find((s: { current: boolean }) => s.current).last_used_at;
    };
    const opened = await lastUsed(session.auth);
    t.clock.advance(20_000);
    const soon = (
      await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: session.refreshToken } })
    ).json();
    expect(await lastUsed({ authorization: `Bearer ${soon.access_token}` })).toBe(opened);
    t.clock.advance(45_000);
    const later = (
      await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: soon.refresh_token } })
    ).json();
    expect(later.refresh_token).toBeDefined();
    expect(await lastUsed({ authorization: `Bearer ${later.access_token}` })).toBe(t.clock.now().toISOString());
  });

  it('lists sessions with the current one marked, and ends another by id', async () => {
    const first = await signUp(t.app);
    const second = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'user-agent': 'TestPhone/1.0' },
      payload: { username: first.username, password: PASSWORD },
    });
    const list = await t.app.inject({ url: '/api/auth/sessions', headers: first.auth });
    expect(list.statusCode).toBe(200);
    const sessions = list.json().sessions;
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    const other = sessions.find((s: { current: boolean }) => !s.current);
    expect(other).toMatchObject({
      user_agent: 'TestPhone/1.0',
      ip: '127.0.0.1',
      created_at: expect.any(String),
      last_used_at: expect.any(String),
    });

    const ended = await t.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${other.id}`, headers: first.auth });
    expect(ended.statusCode).toBe(204);
    expect(
      (await t.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${second.json().access_token}` } }))
        .statusCode,
    ).toBe(401);
    expect((await t.app.inject({ url: '/api/auth/sessions', headers: first.auth })).json().sessions).toHaveLength(1);

    const stranger = await signUp(t.app);
    const foreign = await t.app.inject({
      method: 'DELETE',
      url: `/api/auth/sessions/${sessions[0].id}`,
      headers: stranger.auth,
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error).toBe('not_found');
  });

  it('changes the password: the old one stops working and other sessions end', async () => {
    const a = await signUp(t.app);
    const other = await login(t.app, a.username);
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/change',
      headers: a.auth,
      payload: { current_password: 'nope nope nope', new_password: 'a brand new passphrase' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('invalid_credentials');
    const weak = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/change',
      headers: a.auth,
      payload: { current_password: PASSWORD, new_password: 'password123' },
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().fields.new_password).toMatch(/common/);

    const changed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/change',
      headers: a.auth,
      payload: { current_password: PASSWORD, new_password: 'a brand new passphrase' },
    });
    expect(changed.statusCode).toBe(204);
    expect((await t.app.inject({ url: '/api/user/me', headers: a.auth })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/user/me', headers: other.auth })).statusCode).toBe(401);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: a.username, password: PASSWORD },
        })
      ).statusCode,
    ).toBe(401);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: a.username, password: 'a brand new passphrase' },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('verifies tokens: valid with claims, revoked after logout', async () => {
    const a = await signUp(t.app);
    const ok = await t.app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token: a.accessToken } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      valid: true,
      claims: {
        sub: String(a.userId),
        username: a.username,
        role: 'user',
        amr: ['pwd'],
        iss: 'twofold',
        aud: 'twofold-api',
      },
    });
    const claims = ok.json().claims;
    expect(claims.exp - claims.iat).toBe(600);
    expect(typeof claims.sid).toBe('number');
    expect(typeof claims.jti).toBe('string');

    await t.app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh_token: a.refreshToken } });
    const revoked = await t.app.inject({
      method: 'POST',
      url: '/api/auth/token/verify',
      payload: { token: a.accessToken },
    });
    expect(revoked.json()).toEqual({ valid: false, reason: 'revoked' });
  });

  it('expires access tokens when the clock passes exp', async () => {
    const a = await signUp(t.app);
    t.clock.advance(601_000);
    try {
      const me = await t.app.inject({ url: '/api/user/me', headers: a.auth });
      expect(me.statusCode).toBe(401);
      expect(me.json().error).toBe('unauthorized');
      const verify = await t.app.inject({
        method: 'POST',
        url: '/api/auth/token/verify',
        payload: { token: a.accessToken },
      });
      expect(verify.json()).toEqual({ valid: false, reason: 'expired' });
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        payload: { refresh_token: a.refreshToken },
      });
      expect(refreshed.statusCode).toBe(200);
    } finally {
      t.clock.advance(-601_000);
    }
  });
});
