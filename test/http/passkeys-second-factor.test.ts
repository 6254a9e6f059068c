import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signUp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { passkeySecondStep, secondStepChallenge, secondStepOptions } from '../support/passkey-second-step.js';
import { PASSKEY_ENV, addPasskey, newAuthenticator, passkeySignIn, signUpWithPasskey } from '../support/passkeys.js';
import { challenge, claimsOf, enableTOTP, passwordLogin } from '../support/two-factor.js';

const dialects = await testDialects();

/** A passkey as the second step after a password, and as a factor of the account (mfa_methods, REQUIRE_2FA). */
describe.each(dialects)('passkey as a second factor on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: PASSKEY_ENV });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a password sign-in of a passkey-only account is challenged with methods ["passkey"]', async () => {
    const { username } = await signUpWithPasskey(t);
    const response = await passwordLogin(t, username);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ mfa_required: true, mfa_methods: ['passkey'] });
    expect(response.json().access_token).toBeUndefined();
  });

  it('the second step with the account passkey finishes with amr pwd+hwk; the user shows the passkey', async () => {
    const { username, authenticator } = await signUpWithPasskey(t);
    const mfaToken = await challenge(t, username);
    const options = await secondStepChallenge(t, mfaToken);
    expect(options.allowCredentials.map((c) => c.id)).toEqual([authenticator.id]);
    const done = await passkeySecondStep(t, mfaToken, authenticator.assert(options, { uv: false }));
    expect(done.statusCode).toBe(200);
    expect((await claimsOf(t, done.json().access_token)).amr).toEqual(['pwd', 'hwk']);
    expect(done.json().user).toMatchObject({ mfa_enabled: true, mfa_methods: ['passkey'] });
    // The refresh's one query counts the passkey too.
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: done.json().refresh_token },
    });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json().user).toMatchObject({ mfa_enabled: true, mfa_methods: ['passkey'] });
  });

  it('mfa_methods lists a passkey beside a TOTP app; either finishes the second step', async () => {
    const session = await signUp(t.app);
    await enableTOTP(t, session);
    const authenticator = newAuthenticator();
    await addPasskey(t, session, authenticator);
    const response = await passwordLogin(t, session.username);
    expect(response.json().mfa_methods).toEqual(['totp', 'passkey', 'backup_code']);
    const mfaToken = response.json().mfa_token as string;
    const done = await passkeySecondStep(t, mfaToken, authenticator.assert(await secondStepChallenge(t, mfaToken)));
    expect(done.statusCode).toBe(200);
    expect((await claimsOf(t, done.json().access_token)).amr).toEqual(['pwd', 'hwk']);
  });

  it('a passkey sign-in without user verification is not challenged for the passkey again', async () => {
    const { authenticator } = await signUpWithPasskey(t);
    const single = await passkeySignIn(t, authenticator, { uv: false });
    expect(single.statusCode).toBe(200);
    expect((await claimsOf(t, single.json().access_token)).amr).toEqual(['hwk']);
  });

  it('the options need a live mfa_token, and an account with a passkey', async () => {
    const invalid = await secondStepOptions(t, 'not-a-token');
    expect(invalid.statusCode).toBe(401);
    expect(invalid.json().error).toBe('mfa_token_invalid');
    const session = await signUp(t.app);
    await enableTOTP(t, session);
    const none = await secondStepOptions(t, await challenge(t, session.username));
    expect(none.statusCode).toBe(409);
    expect(none.json().error).toBe('mfa_not_enabled');
  });

  it('the body: response only with method passkey, and required with it', async () => {
    const { username, authenticator } = await signUpWithPasskey(t);
    const mfaToken = await challenge(t, username);
    const assertion = authenticator.assert(await secondStepChallenge(t, mfaToken));
    const withCode = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/login',
      payload: { mfa_token: mfaToken, code: '123456', response: assertion },
    });
    expect(withCode.statusCode).toBe(400);
    const missing = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/login',
      payload: { mfa_token: mfaToken, method: 'passkey' },
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().fields).toMatchObject({ response: expect.any(String) });
  });
});
