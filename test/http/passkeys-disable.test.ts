import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, signUp, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { reauth, reauthOptions } from '../support/passkey-second-step.js';
import { PASSKEY_ENV, addPasskey, newAuthenticator } from '../support/passkeys.js';
import { auditRows, bearer, enableTOTP, passwordLogin, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();

/**
 * `POST /api/auth/2fa/disable` turns the code factors off (authenticator apps, email codes, backup
 * codes) and leaves passkeys, which are removed one by one; its answer says what is left.
 */
describe.each(dialects)('disabling two-factor beside passkeys on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: PASSKEY_ENV });
  });
  afterAll(async () => {
    await t?.close();
  });

  const disable = (session: Session, code: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/disable',
      headers: session.auth,
      payload: { password: PASSWORD, code },
    });
  const me = async (session: Session) =>
    (await t.app.inject({ url: '/api/user/me', headers: session.auth })).json() as Record<string, unknown>;

  it('with an app and a passkey: the app and backup codes go, the passkey stays and is still asked for', async () => {
    const session = await signUp(t.app);
    const key = newAuthenticator();
    await addPasskey(t, session, key);
    const { secret } = await enableTOTP(t, session);
    const answer = await disable(session, totpNow(t, secret));
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ enabled: false, mfa_enabled: true, mfa_methods: ['passkey'] });
    expect(await me(session)).toMatchObject({ mfa_enabled: true, mfa_methods: ['passkey'] });
    const status = await t.app.inject({ url: '/api/auth/2fa', headers: session.auth });
    expect(status.json()).toMatchObject({ totp_enabled: false, email_enabled: false, backup_codes_remaining: 0 });
    const list = await t.app.inject({ url: '/api/auth/passkeys', headers: session.auth });
    expect(list.json().passkeys).toHaveLength(1);
    // The password alone still does not sign in: the passkey is the second step.
    expect((await passwordLogin(t, session.username)).json()).toMatchObject({ mfa_methods: ['passkey'] });
    const disabled = (await auditRows(t, session.userId)).filter((r) => r.type === 'mfa.disabled');
    expect(JSON.parse(disabled.at(-1)?.detail ?? '{}')).toEqual({ confirmed_with: 'totp', passkeys_kept: 'true' });
  });

  it('removing the last authenticator app beside a passkey: the answer says the passkey is left', async () => {
    const session = await signUp(t.app);
    await addPasskey(t, session, newAuthenticator());
    await enableTOTP(t, session);
    const listed = await t.app.inject({ url: '/api/auth/2fa/authenticators', headers: session.auth });
    const [app] = listed.json().authenticators as Array<{ id: number }>;
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/auth/2fa/authenticators/${app?.id}`,
      headers: session.auth,
    });
    expect(removed.statusCode).toBe(200);
    // `enabled` speaks of the code factors only; the passkey is still a second factor.
    expect(removed.json()).toEqual({ enabled: false, mfa_enabled: true, mfa_methods: ['passkey'] });
    expect(await me(session)).toMatchObject({ mfa_enabled: true, mfa_methods: ['passkey'] });
  });

  it('without a passkey the answer says no factor is left', async () => {
    const session = await signUp(t.app);
    const { secret } = await enableTOTP(t, session);
    const answer = await disable(session, totpNow(t, secret));
    expect(answer.json()).toEqual({ enabled: false, mfa_enabled: false, mfa_methods: [] });
    expect(await me(session)).toMatchObject({ mfa_enabled: false, mfa_methods: [] });
  });

  it('a passkey-only account: 409 naming the passkeys, after the password; it removes them one by one', async () => {
    const session = await signUp(t.app);
    const key = newAuthenticator();
    const passkey = await addPasskey(t, session, key);
    const wrongPassword = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/disable',
      headers: session.auth,
      payload: { password: 'not the password', code: '123456' },
    });
    expect(wrongPassword.statusCode).toBe(401);
    const answer = await disable(session, '123456');
    expect(answer.statusCode).toBe(409);
    expect(answer.json()).toEqual({ error: 'mfa_not_enabled', message: expect.stringContaining('passkeys') });
    expect(await me(session)).toMatchObject({ mfa_enabled: true, mfa_methods: ['passkey'] });
    // Not stuck: later, it confirms with the passkey and removes it; then no factor is left.
    t.clock.advance(301_000);
    const stale = await t.app.inject({
      method: 'DELETE',
      url: `/api/auth/passkeys/${passkey.id}`,
      headers: session.auth,
    });
    expect(stale.statusCode).toBe(403);
    const fresh = await reauth(t, session.auth, { response: key.assert(await reauthOptions(t, session.auth)) });
    expect(fresh.statusCode).toBe(200);
    const auth = bearer(fresh.json().access_token as string);
    const removed = await t.app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${passkey.id}`, headers: auth });
    expect(removed.statusCode).toBe(204);
    expect(await me({ ...session, auth })).toMatchObject({ mfa_enabled: false, mfa_methods: [] });
    expect((await passwordLogin(t, session.username)).json().access_token).toEqual(expect.any(String));
  });
});
