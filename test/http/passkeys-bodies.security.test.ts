import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signUp, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { reauthOptions, secondStepChallenge } from '../support/passkey-second-step.js';
import { PASSKEY_ENV, addPasskey, newAuthenticator } from '../support/passkeys.js';
import type { AssertionJSON, SoftwareAuthenticator } from '../support/software-authenticator.js';
import { challenge } from '../support/two-factor.js';

const dialects = await testDialects();

const b64 = (text: string): string => Buffer.from(text).toString('base64url');

/** The contract's error codes for each status; a refused signature is the route's own 401. */
const errorsOf = (status: number, refused: string): Record<number, string[]> => ({
  400: ['validation_failed', 'invalid_json'],
  413: ['payload_too_large'],
  [status]: [refused],
});

/**
 * What a client may send as a passkey's `response` to `POST /api/auth/reauth` and to
 * `POST /api/auth/2fa/login` (method `passkey`): only the fields of the WebAuthn Level 3 JSON form
 * (§5.1), within their sizes; anything else is refused with the contract's error (400, 413, or the
 * route's 401), never a 500 and never a recent sign-in.
 */
describe.each(dialects)('passkey assertion bodies on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: PASSKEY_ENV });
  });

  /** A fresh account per case: each refused signature spends a failure of its lockout budget. */
  async function passkeyUser(): Promise<{ owner: Session & { username: string }; key: SoftwareAuthenticator }> {
    const owner = await signUp(t.app);
    const key = newAuthenticator();
    await addPasskey(t, owner, key);
    return { owner, key };
  }
  afterAll(async () => {
    await t?.close();
  });

  /** Bent assertions: each a real one for a live challenge, changed in one way. */
  const bent: Array<[string, (a: AssertionJSON) => unknown, number[]]> = [
    ['an extra top-level field', (a) => ({ ...a, user_id: 1 }), [400]],
    ['an extra field inside response', (a) => ({ ...a, response: { ...a.response, counter: 9 } }), [400]],
    ['a type other than public-key', (a) => ({ ...a, type: 'password' }), [400]],
    ['no signature', (a) => ({ ...a, response: { ...a.response, signature: undefined } }), [400]],
    ['not base64url', (a) => ({ ...a, response: { ...a.response, signature: 'a+b/c=' } }), [400]],
    ['a string', () => 'assertion', [400]],
    ['null', () => null, [400]],
    ['an array', (a) => [a], [400]],
    [
      'clientDataJSON over 8 KiB',
      (a) => ({ ...a, response: { ...a.response, clientDataJSON: 'A'.repeat(9000) } }),
      [400],
    ],
    [
      'a body over 64 KiB',
      (a) => ({ ...a, response: { ...a.response, authenticatorData: 'A'.repeat(65_536) } }),
      [413],
    ],
    [
      'clientDataJSON that is not JSON',
      (a) => ({ ...a, response: { ...a.response, clientDataJSON: b64('{{{') } }),
      [401],
    ],
    [
      'clientDataJSON without a challenge',
      (a) => ({ ...a, response: { ...a.response, clientDataJSON: b64('{}') } }),
      [401],
    ],
    [
      'a challenge that is an object',
      (a) => ({ ...a, response: { ...a.response, clientDataJSON: b64('{"challenge":{"a":1}}') } }),
      [401],
    ],
    ['short authenticatorData', (a) => ({ ...a, response: { ...a.response, authenticatorData: 'AAAA' } }), [401]],
    ['a garbage signature', (a) => ({ ...a, response: { ...a.response, signature: 'AAAA' } }), [401]],
    ['an unknown credential id', (a) => ({ ...a, id: b64('nobody'), rawId: b64('nobody') }), [401]],
    [
      'a user handle of 200 characters',
      (a) => ({ ...a, response: { ...a.response, userHandle: 'A'.repeat(200) } }),
      [400],
    ],
  ];

  it.each(bent)('re-authentication refuses %s', async (_name, bend, statuses) => {
    const { owner, key } = await passkeyUser();
    const answer = await t.app.inject({
      method: 'POST',
      url: '/api/auth/reauth',
      headers: owner.auth,
      payload: { response: bend(key.assert(await reauthOptions(t, owner.auth))) } as Record<string, unknown>,
    });
    expect(statuses).toContain(answer.statusCode);
    expect(errorsOf(401, 'invalid_credentials')[answer.statusCode]).toContain(answer.json().error);
    // Nothing was proven or broken: the right passkey still re-authenticates.
    const good = await t.app.inject({
      method: 'POST',
      url: '/api/auth/reauth',
      headers: owner.auth,
      payload: { response: key.assert(await reauthOptions(t, owner.auth)) },
    });
    expect(good.statusCode).toBe(200);
  });

  it.each(bent)('the second step refuses %s', async (_name, bend, statuses) => {
    const { owner, key } = await passkeyUser();
    const mfaToken = await challenge(t, owner.username);
    const answer = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/login',
      payload: {
        mfa_token: mfaToken,
        method: 'passkey',
        response: bend(key.assert(await secondStepChallenge(t, mfaToken))),
      },
    });
    expect(statuses).toContain(answer.statusCode);
    expect(errorsOf(401, 'invalid_mfa_code')[answer.statusCode]).toContain(answer.json().error);
    // And the same sign-in still finishes with the right passkey.
    const good = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/login',
      payload: { mfa_token: mfaToken, method: 'passkey', response: key.assert(await secondStepChallenge(t, mfaToken)) },
    });
    expect(good.statusCode).toBe(200);
  });

  it('extension outputs, however deeply nested, are ignored: the signature decides', async () => {
    // The client's extension outputs are not signed and none was requested (WebAuthn Level 3 §9):
    // a 64 KiB body bounds them, and a genuine assertion carrying them still proves the passkey.
    const { owner, key } = await passkeyUser();
    const nested: unknown = JSON.parse(`${'{"x":'.repeat(3000)}1${'}'.repeat(3000)}`);
    const answer = await t.app.inject({
      method: 'POST',
      url: '/api/auth/reauth',
      headers: owner.auth,
      payload: { response: { ...key.assert(await reauthOptions(t, owner.auth)), clientExtensionResults: nested } },
    });
    expect(answer.statusCode).toBe(200);
  });
});
