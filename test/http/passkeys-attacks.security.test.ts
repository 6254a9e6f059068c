import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, signUp, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import {
  passkeySecondStep,
  reauth,
  reauthOptions,
  secondStepChallenge,
  secondStepOptions,
} from '../support/passkey-second-step.js';
import { PASSKEY_ENV, addPasskey, newAuthenticator, passkeySignIn } from '../support/passkeys.js';
import type { SoftwareAuthenticator } from '../support/software-authenticator.js';
import { bearer, challenge, claimsOf, enableTOTP, passwordLogin, secondStep, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();

type Answer = { statusCode: number; json(): { error?: string } & Record<string, unknown> };

/**
 * Attacks on re-authentication with a passkey (`POST /api/auth/passkeys/reauth/options`, then
 * `POST /api/auth/reauth {response}`) and on a passkey as the second step: each assertion is a
 * genuine signature wrong in one way (W3C WebAuthn Level 3 §7.2, §13.4.3), each refusal an answer
 * of the contract, never a 500, and a recent sign-in never without the account's second factor.
 */
describe.each(dialects)('passkey attacks on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: PASSKEY_ENV });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function passkeyUser(): Promise<{ session: Session & { username: string }; key: SoftwareAuthenticator }> {
    const session = await signUp(t.app);
    const key = newAuthenticator();
    await addPasskey(t, session, key);
    return { session, key };
  }

  const refused = (answer: Answer, error = 'invalid_credentials'): void => {
    expect(answer.statusCode).toBe(401);
    expect(answer.json().error).toBe(error);
  };

  const removePasskey = async (session: Session): Promise<Answer> => {
    const list = await t.app.inject({ url: '/api/auth/passkeys', headers: session.auth });
    const id = (list.json().passkeys as Array<{ id: number }>)[0]?.id ?? 0;
    return t.app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${id}`, headers: session.auth });
  };

  it("re-authentication: another user's challenge, either way round, is refused", async () => {
    const alice = await passkeyUser();
    const bob = await passkeyUser();
    // Bob's challenge signed by Alice's passkey, sent on Alice's session: not a challenge of hers.
    refused(
      await reauth(t, alice.session.auth, { response: alice.key.assert(await reauthOptions(t, bob.session.auth)) }),
    );
    // Alice's own challenge and assertion, sent with Bob's token: bound to Alice's session.
    const forAlice = alice.key.assert(await reauthOptions(t, alice.session.auth));
    refused(await reauth(t, bob.session.auth, { response: forAlice }));
    // Bob's challenge signed by Alice's passkey, sent on Bob's session: not Bob's credential.
    refused(
      await reauth(t, bob.session.auth, { response: alice.key.assert(await reauthOptions(t, bob.session.auth)) }),
    );
  });

  it('re-authentication: a replayed assertion gets nothing, and a second step challenge is no re-authentication one', async () => {
    const { session, key } = await passkeyUser();
    const assertion = key.assert(await reauthOptions(t, session.auth));
    expect((await reauth(t, session.auth, { response: assertion })).statusCode).toBe(200);
    refused(await reauth(t, session.auth, { response: assertion }));
    // A fresh challenge signed with a counter that did not move (a cloned key): refused too.
    refused(
      await reauth(t, session.auth, { response: key.assert(await reauthOptions(t, session.auth), { counter: 0 }) }),
    );
    // Options made for a sign-in's second step (bound to its mfa_token) do not re-authenticate.
    const mfaToken = await challenge(t, session.username);
    refused(await reauth(t, session.auth, { response: key.assert(await secondStepChallenge(t, mfaToken)) }));
    // Nor do re-authentication options finish a sign-in.
    refused(await passkeySecondStep(t, mfaToken, key.assert(await reauthOptions(t, session.auth))), 'invalid_mfa_code');
  });

  it('a stolen access token with an old auth_time: no recent sign-in without the passkey', async () => {
    const { session, key } = await passkeyUser();
    // The owner re-authenticated once; the thief saw that request.
    const seen = key.assert(await reauthOptions(t, session.auth));
    expect((await reauth(t, session.auth, { response: seen })).statusCode).toBe(200);
    t.clock.advance(301_000);
    const stale = await removePasskey(session);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('reauth_required');
    refused(await reauth(t, session.auth, { response: seen }));
    // The password alone does not stand in for the account's only second factor, a passkey.
    const withPassword = await reauth(t, session.auth, { password: PASSWORD });
    expect(withPassword.statusCode).toBe(400);
    expect(withPassword.json()).toMatchObject({ error: 'validation_failed', fields: { response: expect.any(String) } });
    // Options are no proof: asking for them changes nothing.
    await reauthOptions(t, session.auth);
    expect((await removePasskey(session)).statusCode).toBe(403);
    // Once the session ends, the token opens nothing, options included.
    await t.app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: session.auth });
    const ended = await t.app.inject({
      method: 'POST',
      url: '/api/auth/passkeys/reauth/options',
      headers: session.auth,
    });
    expect(ended.statusCode).toBe(401);
  });

  it('re-authentication options live 5 minutes on their own (the access token outlives them)', async () => {
    const { session, key } = await passkeyUser();
    const late = await reauthOptions(t, session.auth);
    const inTime = await reauthOptions(t, session.auth);
    t.clock.advance(299_000);
    expect((await reauth(t, session.auth, { response: key.assert(inTime) })).statusCode).toBe(200);
    t.clock.advance(1_000);
    refused(await reauth(t, session.auth, { response: key.assert(late) }));
  });

  it("second step: another account's mfa_token, an expired one, and a replay of a finished sign-in are refused", async () => {
    const alice = await passkeyUser();
    const bob = await passkeyUser();
    const aliceToken = await challenge(t, alice.session.username);
    const bobToken = await challenge(t, bob.session.username);
    // Bob's sign-in, Bob's options, Bob's passkey: presented with Alice's mfa_token.
    refused(
      await passkeySecondStep(t, aliceToken, bob.key.assert(await secondStepChallenge(t, bobToken))),
      'invalid_mfa_code',
    );
    const options = await secondStepChallenge(t, aliceToken);
    t.clock.advance(300_000);
    // The mfa_token's 5 minutes are over: neither new options nor the step.
    refused(await secondStepOptions(t, aliceToken), 'mfa_token_invalid');
    refused(await passkeySecondStep(t, aliceToken, alice.key.assert(options)), 'mfa_token_invalid');
    // A finished sign-in's request, sent again.
    const fresh = await challenge(t, alice.session.username);
    const assertion = alice.key.assert(await secondStepChallenge(t, fresh));
    expect((await passkeySecondStep(t, fresh, assertion)).statusCode).toBe(200);
    refused(await passkeySecondStep(t, fresh, assertion), 'mfa_token_invalid');
  });

  it('a passkey is never both steps, not even a second passkey of the same account', async () => {
    const { session, key } = await passkeyUser();
    const other = newAuthenticator('EdDSA');
    await addPasskey(t, session, other);
    const { secret } = await enableTOTP(t, session);
    const challenged = await passkeySignIn(t, key, { uv: false });
    expect(challenged.json()).toMatchObject({ mfa_required: true, mfa_methods: ['totp', 'backup_code'] });
    const mfaToken = challenged.json().mfa_token as string;
    expect((await secondStepOptions(t, mfaToken)).statusCode).toBe(409);
    // The other passkey, signing options of a password sign-in's flow: two things held are one factor.
    const borrowed = other.assert(await secondStepChallenge(t, await challenge(t, session.username)));
    refused(await passkeySecondStep(t, mfaToken, borrowed), 'invalid_mfa_code');
    // A code of another kind still finishes it.
    const finished = await secondStep(t, mfaToken, totpNow(t, secret));
    expect(finished.statusCode).toBe(200);
    expect((await claimsOf(t, finished.json().access_token as string)).amr).toEqual(['hwk', 'otp']);
  });

  it('failed assertions and wrong passwords spend one lockout budget', async () => {
    const alice = await passkeyUser();
    const mallory = await passkeyUser();
    for (let i = 0; i < 2; i += 1)
      refused(
        await t.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: alice.session.username, password: 'wrong guess' },
        }),
      );
    const mfaToken = await challenge(t, alice.session.username);
    for (let i = 0; i < 3; i += 1)
      refused(
        await passkeySecondStep(t, mfaToken, mallory.key.assert(await secondStepChallenge(t, mfaToken))),
        'invalid_mfa_code',
      );
    const locked = await passwordLogin(t, alice.session.username);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // Re-authentication on a live session is the same budget.
    expect(
      (
        await reauth(t, bearer(alice.session.accessToken), {
          response: alice.key.assert(await reauthOptions(t, alice.session.auth)),
        })
      ).statusCode,
    ).toBe(429);
  });
});

describe.each(dialects)('the per-IP login limit on passkey steps on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { ...PASSKEY_ENV, RATE_LIMIT_LOGIN: '5' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('second step options and assertions count with the password among the login attempts of one address', async () => {
    const session = await signUp(t.app);
    const key = newAuthenticator();
    await addPasskey(t, session, key);
    const mallory = newAuthenticator();
    const from = (remoteAddress: string) => ({ remoteAddress });
    const post = (url: string, payload: Record<string, unknown>, remoteAddress: string) =>
      t.app.inject({ method: 'POST', url, payload, ...from(remoteAddress) });
    const attacker = '10.9.8.7';
    const login = await post('/api/auth/login', { username: session.username, password: PASSWORD }, attacker);
    const mfaToken = login.json().mfa_token as string;
    for (let i = 0; i < 2; i += 1) {
      const options = await post('/api/auth/2fa/passkey/options', { mfa_token: mfaToken }, attacker);
      expect(options.statusCode).toBe(200);
      const step = await post(
        '/api/auth/2fa/login',
        { mfa_token: mfaToken, method: 'passkey', response: mallory.assert(options.json().options) },
        attacker,
      );
      expect(step.statusCode).toBe(401);
    }
    const limited = await post('/api/auth/2fa/passkey/options', { mfa_token: mfaToken }, attacker);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toBe('too_many_attempts');
    // Another address is not limited, and the account is not locked: the owner finishes the same sign-in.
    const options = await post('/api/auth/2fa/passkey/options', { mfa_token: mfaToken }, '10.9.8.8');
    const owner = await post(
      '/api/auth/2fa/login',
      { mfa_token: mfaToken, method: 'passkey', response: key.assert(options.json().options) },
      '10.9.8.8',
    );
    expect(owner.statusCode).toBe(200);
  });

  it('re-authentication options and assertions count among the login attempts of one address', async () => {
    const session = await signUp(t.app);
    const key = newAuthenticator();
    await addPasskey(t, session, key);
    const from = (remoteAddress: string, url: string, payload?: Record<string, unknown>) =>
      t.app.inject({ method: 'POST', url, headers: session.auth, remoteAddress, ...(payload ? { payload } : {}) });
    const thief = '10.9.9.7';
    for (let i = 0; i < 2; i += 1) {
      const options = await from(thief, '/api/auth/passkeys/reauth/options');
      expect(options.statusCode).toBe(200);
      const wrong = newAuthenticator().assert(options.json().options);
      expect((await from(thief, '/api/auth/reauth', { response: wrong })).statusCode).toBe(401);
    }
    expect((await from(thief, '/api/auth/passkeys/reauth/options')).statusCode).toBe(200);
    const limited = await from(thief, '/api/auth/passkeys/reauth/options');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toBe('too_many_attempts');
    // The owner, from another address, still confirms with the passkey (two failures: under the lockout budget of 5).
    const options = await from('10.9.9.8', '/api/auth/passkeys/reauth/options');
    const mine = await from('10.9.9.8', '/api/auth/reauth', { response: key.assert(options.json().options) });
    expect(mine.statusCode).toBe(200);
  });
});
