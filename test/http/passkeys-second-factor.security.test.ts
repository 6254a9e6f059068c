import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { passkeySecondStep, secondStepChallenge, secondStepOptions } from '../support/passkey-second-step.js';
import { PASSKEY_ENV, passkeySignIn, signUpWithPasskey } from '../support/passkeys.js';
import { auditRows, challenge, enableTOTP, passwordLogin } from '../support/two-factor.js';

const dialects = await testDialects();

/**
 * Attacks on a passkey as the second step (WebAuthn Level 3 §7.2, §13.4.3): each assertion is a real
 * signature that is wrong in exactly one way, and each refusal counts like a wrong code.
 */
describe.each(dialects)('passkey second step security on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: PASSKEY_ENV });
  });
  afterAll(async () => {
    await t?.close();
  });

  const refused = (response: { statusCode: number; json(): unknown }): void => {
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: 'invalid_mfa_code' });
  };

  it("another account's passkey does not finish the sign-in, even signing this flow's challenge", async () => {
    const alice = await signUpWithPasskey(t);
    const bob = await signUpWithPasskey(t);
    const mfaToken = await challenge(t, alice.username);
    refused(await passkeySecondStep(t, mfaToken, bob.authenticator.assert(await secondStepChallenge(t, mfaToken))));
    const failed = (await auditRows(t, alice.userId)).filter((r) => r.type === 'mfa.failed');
    expect(failed.at(-1)?.detail).toContain('credential');
  });

  it('a challenge is used once: an assertion for a spent challenge is refused', async () => {
    const alice = await signUpWithPasskey(t);
    const bob = await signUpWithPasskey(t);
    const mfaToken = await challenge(t, alice.username);
    const options = await secondStepChallenge(t, mfaToken);
    // A first, refused, use spends the challenge.
    refused(await passkeySecondStep(t, mfaToken, bob.authenticator.assert(options)));
    refused(await passkeySecondStep(t, mfaToken, alice.authenticator.assert(options)));
  });

  it("another sign-in's challenge is refused, and a spent assertion cannot finish a later sign-in", async () => {
    const alice = await signUpWithPasskey(t);
    const first = await challenge(t, alice.username);
    const second = await challenge(t, alice.username);
    const forFirst = await secondStepChallenge(t, first);
    refused(await passkeySecondStep(t, second, alice.authenticator.assert(forFirst)));
    const assertion = alice.authenticator.assert(await secondStepChallenge(t, first));
    expect((await passkeySecondStep(t, first, assertion)).statusCode).toBe(200);
    refused(await passkeySecondStep(t, await challenge(t, alice.username), assertion));
  });

  it('an expired challenge is refused', async () => {
    const alice = await signUpWithPasskey(t);
    const mfaToken = await challenge(t, alice.username);
    const options = await secondStepChallenge(t, mfaToken);
    t.clock.advance(301_000);
    const late = await passkeySecondStep(t, mfaToken, alice.authenticator.assert(options));
    expect(late.statusCode).toBe(401);
  });

  it('refused assertions spend the challenge attempts and the account lockout budget', async () => {
    const alice = await signUpWithPasskey(t);
    const bob = await signUpWithPasskey(t);
    const mfaToken = await challenge(t, alice.username);
    for (let i = 0; i < 5; i += 1)
      refused(await passkeySecondStep(t, mfaToken, bob.authenticator.assert(await secondStepChallenge(t, mfaToken))));
    // The challenge is out of attempts, whatever comes now.
    const options = await secondStepOptions(t, mfaToken);
    const last =
      options.statusCode === 200
        ? await passkeySecondStep(t, mfaToken, alice.authenticator.assert(options.json().options))
        : options;
    expect(last.statusCode).toBe(401);
    expect(last.json().error).toBe('mfa_token_invalid');
    // And the account is locked: even the right password waits.
    const locked = await passwordLogin(t, alice.username);
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error).toBe('too_many_attempts');
  });

  it('after a passkey without user verification, the passkey is not offered again as the second step', async () => {
    const session = await signUpWithPasskey(t);
    const { authenticator } = session;
    await enableTOTP(t, session);
    const challenged = await passkeySignIn(t, authenticator, { uv: false });
    expect(challenged.json()).toMatchObject({ mfa_required: true, mfa_methods: ['totp', 'backup_code'] });
    const mfaToken = challenged.json().mfa_token as string;
    expect((await secondStepOptions(t, mfaToken)).statusCode).toBe(409);
    // Options of a password sign-in's flow, signed again by the same passkey, do not help either.
    const other = await secondStepChallenge(t, await challenge(t, session.username));
    refused(await passkeySecondStep(t, mfaToken, authenticator.assert(other)));
  });
});
