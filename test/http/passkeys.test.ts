import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, register, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { PASSKEY_ENV, addPasskey, newAuthenticator, passkeySignIn } from '../support/passkeys.js';
import { auditRows, claimsOf, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Passkeys (WebAuthn Level 3) with a software authenticator: registration, management, passwordless sign-in. */
describe.each(dialects)('passkeys on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: PASSKEY_ENV });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('registers, lists, renames and removes passkeys (ES256 and EdDSA)', async () => {
    const session = await signUp(t.app);
    const es256 = newAuthenticator('ES256');
    const eddsa = newAuthenticator('EdDSA');
    const first = await addPasskey(t, session, es256, 'Laptop');
    expect(first).toEqual({
      id: expect.any(Number),
      name: 'Laptop',
      created_at: expect.stringMatching(ISO),
      last_used_at: null,
      backed_up: false,
      transports: ['internal'],
    });
    const second = await addPasskey(t, session, eddsa);
    expect(second.name).toBe('Passkey');

    const listed = await t.app.inject({ url: '/api/auth/passkeys', headers: session.auth });
    expect(listed.statusCode).toBe(200);
    expect(listed.headers['cache-control']).toBe('no-store');
    expect(listed.json().passkeys.map((p: { id: number }) => p.id)).toEqual([first.id, second.id]);

    const renamed = await t.app.inject({
      method: 'PATCH',
      url: `/api/auth/passkeys/${second.id}`,
      headers: session.auth,
      payload: { name: 'Security key' },
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().name).toBe('Security key');

    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/auth/passkeys/${first.id}`,
      headers: session.auth,
    });
    expect(removed.statusCode).toBe(204);
    const after = await t.app.inject({ url: '/api/auth/passkeys', headers: session.auth });
    expect(after.json().passkeys).toEqual([expect.objectContaining({ id: second.id, name: 'Security key' })]);
    const types = (await auditRows(t, session.userId)).map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['passkey.registered', 'passkey.renamed', 'passkey.removed']));
  });

  it('signs in without a password when the authenticator verified the person: amr hwk + mfa', async () => {
    const session = await signUp(t.app);
    for (const algorithm of ['ES256', 'EdDSA'] as const) {
      const authenticator = newAuthenticator(algorithm);
      await addPasskey(t, session, authenticator);
      const response = await passkeySignIn(t, authenticator);
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = response.json();
      expect(body.user.id).toBe(session.userId);
      expect((await claimsOf(t, body.access_token)).amr).toEqual(['hwk', 'mfa']);
      const me = await t.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${body.access_token}` } });
      expect(me.statusCode).toBe(200);
    }
    const listed = await t.app.inject({ url: '/api/auth/passkeys', headers: session.auth });
    for (const passkey of listed.json().passkeys) expect(passkey.last_used_at).toMatch(ISO);
  });

  it('the data export lists the passkeys, without their keys or credential IDs (GDPR Art. 15)', async () => {
    const session = await signUp(t.app);
    const passkey = await addPasskey(t, session, newAuthenticator(), 'Phone');
    const response = await t.app.inject({ url: '/api/user/me/export', headers: session.auth });
    expect(response.statusCode).toBe(200);
    expect(response.json().passkeys).toEqual([passkey]);
    const row = await t.database.handle.db
      .selectFrom('passkeys')
      .select(['credential_id', 'public_key'])
      .where('user_id', '=', session.userId)
      .executeTakeFirstOrThrow();
    expect(response.body).not.toContain(row.credential_id);
    expect(response.body).not.toContain(row.public_key);
  });

  it('the options routes take no body at all, as a first call from a browser may send none', async () => {
    const session = await signUp(t.app);
    const options = await t.app.inject({
      method: 'POST',
      url: '/api/auth/passkeys/register/options',
      headers: session.auth,
    });
    expect(options.statusCode).toBe(200);
    expect(options.json().rp).toEqual({ id: 'auth.example.test', name: 'Twofold' });
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/passkeys/login/options' });
    expect(login.statusCode).toBe(200);
    expect(login.json().options).toMatchObject({ rpId: 'auth.example.test', allowCredentials: [] });
  });

  it('an account deleted with its passkeys: they sign in no more', async () => {
    const session = await signUp(t.app);
    const authenticator = newAuthenticator();
    await addPasskey(t, session, authenticator);
    const me = (await t.app.inject({ url: '/api/user/me', headers: session.auth })).json();
    const deleted = await t.app.inject({
      method: 'DELETE',
      url: '/api/user/me',
      headers: session.auth,
      payload: { confirm: me.username },
    });
    expect(deleted.statusCode).toBe(204);
    expect((await passkeySignIn(t, authenticator)).statusCode).toBe(401);
  });
});

/** REQUIRE_2FA=all: a passkey that verified the person is both factors, so its session is a full one. */
describe.each(dialects)('passkeys under REQUIRE_2FA=all on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { ...PASSKEY_ENV, REQUIRE_2FA: 'all' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a user-verified passkey sign-in passes the policy; one without user verification asks for the TOTP', async () => {
    const username = uniqueName();
    expect((await register(t.app, username)).statusCode).toBe(201);
    const first = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password: PASSWORD },
    });
    const setupAuth = { authorization: `Bearer ${first.json().setup_token}` };
    const setup = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: setupAuth });
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/verify-setup',
      headers: setupAuth,
      payload: { code: totpNow(t, setup.json().secret) },
    });
    const tokens = verified.json().tokens;
    const session = {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      userId: tokens.user.id,
      auth: { authorization: `Bearer ${tokens.access_token}` },
    };
    const authenticator = newAuthenticator();
    await addPasskey(t, session, authenticator);

    const signedIn = await passkeySignIn(t, authenticator);
    expect(signedIn.statusCode).toBe(200);
    const sessions = await t.app.inject({
      url: '/api/auth/sessions',
      headers: { authorization: `Bearer ${signedIn.json().access_token}` },
    });
    expect(sessions.statusCode).toBe(200);
    const withoutUv = await passkeySignIn(t, authenticator, { uv: false });
    expect(withoutUv.json()).toMatchObject({ mfa_required: true, mfa_methods: expect.arrayContaining(['totp']) });
  });
});

/** REQUIRE_2FA=admin: an administrator's passkey without user verification and no other factor. */
describe.each(dialects)('passkeys under REQUIRE_2FA=admin on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { ...PASSKEY_ENV, REQUIRE_2FA: 'admin' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('asks for a factor to be set up, and the sign-in it completes names the passkey: amr hwk + otp', async () => {
    const session = await signUp(t.app);
    const authenticator = newAuthenticator();
    await addPasskey(t, session, authenticator);
    await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', session.userId).execute();

    const first = await passkeySignIn(t, authenticator, { uv: false });
    expect(first.json()).toMatchObject({ mfa_setup_required: true });
    const setupAuth = { authorization: `Bearer ${first.json().setup_token}` };
    const setup = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: setupAuth });
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/verify-setup',
      headers: setupAuth,
      payload: { code: totpNow(t, setup.json().secret) },
    });
    expect(verified.statusCode).toBe(200);
    expect((await claimsOf(t, verified.json().tokens.access_token)).amr).toEqual(['hwk', 'otp']);
  });
});
