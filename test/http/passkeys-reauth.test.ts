import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, signUp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { passkeySecondStep, reauth, reauthOptions, secondStepChallenge } from '../support/passkey-second-step.js';
import { PASSKEY_ENV, addPasskey, newAuthenticator } from '../support/passkeys.js';
import { auditRows, bearer, challenge, claimsOf } from '../support/two-factor.js';

const dialects = await testDialects();

/** POST /api/auth/reauth with a passkey assertion instead of the password (and code). */
describe.each(dialects)('re-authentication with a passkey on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: PASSKEY_ENV });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function passkeyUser() {
    const session = await signUp(t.app);
    const authenticator = newAuthenticator();
    await addPasskey(t, session, authenticator);
    return { session, authenticator };
  }

  it('gives the same session a fresh auth_time; amr hwk+mfa with user verification, hwk without', async () => {
    const { session, authenticator } = await passkeyUser();
    t.clock.advance(200_000);
    const verified = await reauth(t, session.auth, {
      response: authenticator.assert(await reauthOptions(t, session.auth)),
    });
    expect(verified.statusCode).toBe(200);
    const claims = await claimsOf(t, verified.json().access_token);
    expect(claims).toMatchObject({
      amr: ['hwk', 'mfa'],
      auth_time: Math.floor(t.clock.now().getTime() / 1000),
      sid: (await claimsOf(t, session.accessToken)).sid,
    });
    const plain = await reauth(t, session.auth, {
      response: authenticator.assert(await reauthOptions(t, session.auth), { uv: false }),
    });
    expect((await claimsOf(t, plain.json().access_token)).amr).toEqual(['hwk']);
    const succeeded = (await auditRows(t, session.userId)).filter((r) => r.type === 'reauth.succeeded');
    expect(succeeded.at(-1)?.detail).toContain('passkey');
  });

  it("another session's challenge, a spent one and another account's passkey are refused, spending the budget", async () => {
    const { session, authenticator } = await passkeyUser();
    // A second session of the same account: password, then the passkey as the second step.
    const mfaToken = await challenge(t, session.username);
    const step = authenticator.assert(await secondStepChallenge(t, mfaToken));
    const other = { auth: bearer((await passkeySecondStep(t, mfaToken, step)).json().access_token) };
    const mallory = await passkeyUser();
    const refused = async (payload: Record<string, unknown>) => {
      const answer = await reauth(t, session.auth, payload);
      expect(answer.statusCode).toBe(401);
      expect(answer.json().error).toBe('invalid_credentials');
    };
    await refused({ response: authenticator.assert(await reauthOptions(t, other.auth)) });
    const options = await reauthOptions(t, session.auth);
    await refused({ response: mallory.authenticator.assert(options) });
    await refused({ response: authenticator.assert(options) });
    const failed = (await auditRows(t, session.userId)).filter((r) => r.type === 'reauth.failed');
    expect(failed).toHaveLength(3);
    // The lockout budget (5) is spent by such guesses like wrong passwords.
    for (let i = 0; i < 2; i += 1)
      await refused({ response: mallory.authenticator.assert(await reauthOptions(t, session.auth)) });
    const owner = await reauth(t, session.auth, {
      response: authenticator.assert(await reauthOptions(t, session.auth)),
    });
    expect(owner.statusCode).toBe(429);
  });

  it('the body: a response comes alone; the options need a passkey', async () => {
    const { session, authenticator } = await passkeyUser();
    const both = await reauth(t, session.auth, {
      password: PASSWORD,
      response: authenticator.assert(await reauthOptions(t, session.auth)),
    });
    expect(both.statusCode).toBe(400);
    expect((await reauth(t, session.auth, {})).statusCode).toBe(400);
    const none = await signUp(t.app);
    const noPasskey = await t.app.inject({
      method: 'POST',
      url: '/api/auth/passkeys/reauth/options',
      headers: none.auth,
    });
    expect(noPasskey.statusCode).toBe(409);
  });
});
