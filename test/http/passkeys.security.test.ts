import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signUp, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import {
  PASSKEY_ENV,
  RP,
  addPasskey,
  loginOptions,
  loginVerify,
  newAuthenticator,
  passkeySignIn,
  registrationOptions,
  verifyRegistration,
} from '../support/passkeys.js';
import { auditRows, claimsOf, enableTOTP, secondStep, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();

/**
 * Attacks on the passkey ceremonies (W3C WebAuthn Level 3 §7.1, §7.2, §13.4): every check the relying
 * party owes is exercised with a genuine signature that is wrong in exactly one way.
 */
describe.each(dialects)('passkey security on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: PASSKEY_ENV });
  });
  afterAll(async () => {
    await t?.close();
  });

  const refused = (response: { statusCode: number; json(): unknown }): void => {
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: 'invalid_credentials', message: expect.any(String) });
  };
  const registrationRefused = (response: { statusCode: number; json(): unknown }): void => {
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'validation_failed', fields: { response: expect.any(String) } });
  };

  async function userWithPasskey(): Promise<{ session: Session; authenticator: ReturnType<typeof newAuthenticator> }> {
    const session = await signUp(t.app);
    const authenticator = newAuthenticator();
    await addPasskey(t, session, authenticator);
    return { session, authenticator };
  }

  it('without user verification: a second factor is still asked for; with none, amr is hwk alone', async () => {
    const { session, authenticator } = await userWithPasskey();
    const single = await passkeySignIn(t, authenticator, { uv: false });
    expect(single.statusCode).toBe(200);
    expect((await claimsOf(t, single.json().access_token)).amr).toEqual(['hwk']);

    const { secret } = await enableTOTP(t, session);
    const challenged = await passkeySignIn(t, authenticator, { uv: false });
    expect(challenged.statusCode).toBe(200);
    expect(challenged.json()).toMatchObject({ mfa_required: true, mfa_token: expect.any(String) });
    expect(challenged.json().access_token).toBeUndefined();
    // The second step names what the first proved: a passkey (hwk), not a password.
    const finished = await secondStep(t, challenged.json().mfa_token, totpNow(t, secret));
    expect(finished.statusCode).toBe(200);
    expect((await claimsOf(t, finished.json().access_token)).amr).toEqual(['hwk', 'otp']);
  });

  it('a registration challenge is used once, by its own user, within 5 minutes, from an allowed origin and RP ID', async () => {
    const alice = await signUp(t.app);
    const bob = await signUp(t.app);
    const authenticator = newAuthenticator();

    const options = await registrationOptions(t, alice);
    expect(options).toMatchObject({
      rp: { id: RP.rpId },
      attestation: 'none',
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      excludeCredentials: [],
    });
    expect(options.pubKeyCredParams).toEqual([
      { type: 'public-key', alg: -7 },
      { type: 'public-key', alg: -8 },
      { type: 'public-key', alg: -257 },
    ]);
    // Another user cannot spend Alice's challenge.
    registrationRefused(await verifyRegistration(t, bob, { response: authenticator.register(options) }));

    const wrongOrigin = await registrationOptions(t, alice);
    registrationRefused(
      await verifyRegistration(t, alice, {
        response: authenticator.register(wrongOrigin, { origin: 'https://evil.example' }),
      }),
    );
    const wrongRp = await registrationOptions(t, alice);
    registrationRefused(
      await verifyRegistration(t, alice, { response: authenticator.register(wrongRp, { rpId: 'evil.example' }) }),
    );

    const expiring = await registrationOptions(t, alice);
    t.clock.advance(5 * 60_000 + 1);
    registrationRefused(await verifyRegistration(t, alice, { response: authenticator.register(expiring) }));

    const fresh = await signUp(t.app);
    const good = await registrationOptions(t, fresh);
    const response = authenticator.register(good);
    expect((await verifyRegistration(t, fresh, { response })).statusCode).toBe(201);
    // Replayed: the same challenge (and credential) again.
    registrationRefused(await verifyRegistration(t, fresh, { response }));
    // Registered once, now excluded from new options.
    const next = await registrationOptions(t, fresh);
    expect(next.excludeCredentials).toEqual([{ id: authenticator.id, type: 'public-key', transports: ['internal'] }]);
    const list = await t.app.inject({ url: '/api/auth/passkeys', headers: fresh.auth });
    expect(list.json().passkeys).toHaveLength(1);
    expect((await t.app.inject({ url: '/api/auth/passkeys', headers: alice.auth })).json().passkeys).toEqual([]);
  });

  it('a sign-in flow is used once, with its own challenge, within 5 minutes', async () => {
    const { authenticator } = await userWithPasskey();
    const { flow_token, options } = await loginOptions(t);
    const assertion = authenticator.assert(options);
    expect((await loginVerify(t, { flow_token, response: assertion })).statusCode).toBe(200);
    // Replay of the whole request.
    refused(await loginVerify(t, { flow_token, response: assertion }));

    // A response signed for flow A presented with flow B's token.
    const a = await loginOptions(t);
    const b = await loginOptions(t);
    refused(await loginVerify(t, { flow_token: b.flow_token, response: authenticator.assert(a.options) }));

    const late = await loginOptions(t);
    t.clock.advance(5 * 60_000 + 1);
    refused(await loginVerify(t, { flow_token: late.flow_token, response: authenticator.assert(late.options) }));
  });

  it('of parallel requests with one flow token exactly one signs in', async () => {
    const { authenticator } = await userWithPasskey();
    const { flow_token, options } = await loginOptions(t);
    // Counter 0, as synced passkeys report: only the flow's single use can stop the copies.
    const assertion = authenticator.assert(options, { counter: 0 });
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => loginVerify(t, { flow_token, response: assertion })),
    );
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 401, 401, 401, 401]);
  });

  it("refuses a wrong origin, a wrong RP ID, and another account's passkey in a named flow", async () => {
    const { authenticator } = await userWithPasskey();
    const other = await userWithPasskey();
    refused(await passkeySignIn(t, authenticator, { origin: 'https://evil.example' }));
    refused(await passkeySignIn(t, authenticator, { rpId: 'evil.example' }));
    // A user handle that is not the credential owner's (§7.2 step 6).
    const flow = await loginOptions(t);
    const assertion = authenticator.assert(flow.options);
    const foreignHandle = { ...assertion, response: { ...assertion.response, userHandle: 'AAAAAAAAAAAAAAAAAAAAAA' } };
    refused(await loginVerify(t, { flow_token: flow.flow_token, response: foreignHandle }));
    const named = await loginOptions(t, { username: (await me(other.session)).username });
    refused(await loginVerify(t, { flow_token: named.flow_token, response: authenticator.assert(named.options) }));
    const own = await loginOptions(t, { username: (await me(other.session)).username });
    expect(
      (await loginVerify(t, { flow_token: own.flow_token, response: other.authenticator.assert(own.options) }))
        .statusCode,
    ).toBe(200);
  });

  async function me(session: Session): Promise<{ username: string }> {
    return (await t.app.inject({ url: '/api/user/me', headers: session.auth })).json();
  }

  it('of parallel registrations with one challenge exactly one is saved', async () => {
    const session = await signUp(t.app);
    const options = await registrationOptions(t, session);
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        verifyRegistration(t, session, { response: newAuthenticator().register(options) }),
      ),
    );
    expect(responses.map((r) => r.statusCode).sort()).toEqual([201, 400, 400, 400]);
    expect((await t.app.inject({ url: '/api/auth/passkeys', headers: session.auth })).json().passkeys).toHaveLength(1);
  });

  it('at most 20 passkeys per user; a credential belongs to one account', async () => {
    const session = await signUp(t.app);
    const first = newAuthenticator();
    await addPasskey(t, session, first);
    for (let i = 1; i < 20; i += 1) await addPasskey(t, session, newAuthenticator());
    const options = await registrationOptions(t, session);
    const full = await verifyRegistration(t, session, { response: newAuthenticator().register(options) });
    expect(full.statusCode).toBe(409);
    expect(full.json().error).toBe('too_many_passkeys');

    const other = await signUp(t.app);
    const taken = await verifyRegistration(t, other, { response: first.register(await registrationOptions(t, other)) });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error).toBe('passkey_already_registered');
    expect((await t.app.inject({ url: '/api/auth/passkeys', headers: other.auth })).json().passkeys).toEqual([]);
  });

  it('a signature counter that goes backwards is refused and audited (a cloned authenticator)', async () => {
    const { session, authenticator } = await userWithPasskey();
    expect((await passkeySignIn(t, authenticator, { counter: 5 })).statusCode).toBe(200);
    refused(await passkeySignIn(t, authenticator, { counter: 5 }));
    refused(await passkeySignIn(t, authenticator, { counter: 3 }));
    expect((await passkeySignIn(t, authenticator, { counter: 6 })).statusCode).toBe(200);
    const anomalies = (await auditRows(t, session.userId)).filter((r) => r.type === 'passkey.counter_anomaly');
    expect(anomalies).toHaveLength(2);
  });

  it('the same answer for a name with an account and without one', async () => {
    const { session } = await userWithPasskey();
    const known = await loginOptions(t, { username: (await me(session)).username });
    const unknown = await loginOptions(t, { username: 'nobody-at-all' });
    const shape = (body: { flow_token: string; options: Record<string, unknown> }) => ({
      keys: Object.keys(body).sort(),
      options: { ...body.options, challenge: 'x' },
    });
    expect(shape(known)).toEqual(shape(unknown));
    expect(known.options.allowCredentials).toEqual([]);
  });

  it("failed assertions spend the account's lockout budget like wrong passwords", async () => {
    const { authenticator } = await userWithPasskey();
    for (let i = 0; i < 5; i += 1) refused(await passkeySignIn(t, authenticator, { origin: 'https://evil.example' }));
    const locked = await passkeySignIn(t, authenticator);
    expect(locked.statusCode).toBe(429);
    expect(locked.headers['retry-after']).toBeDefined();
  });

  it("another user's passkey is not found; adding, removing need a recent sign-in", async () => {
    const { session: owner } = await userWithPasskey();
    const id = (await t.app.inject({ url: '/api/auth/passkeys', headers: owner.auth })).json().passkeys[0].id;
    const stranger = await signUp(t.app);
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/api/auth/passkeys/${id}`,
      headers: stranger.auth,
      payload: { name: 'Mine now' },
    });
    expect(patch.statusCode).toBe(404);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${id}`, headers: stranger.auth });
    expect(del.statusCode).toBe(404);
    expect((await t.app.inject({ url: '/api/auth/passkeys', headers: owner.auth })).json().passkeys).toHaveLength(1);

    t.clock.advance(301_000);
    for (const [method, url] of [
      ['POST', '/api/auth/passkeys/register/options'],
      ['DELETE', `/api/auth/passkeys/${id}`],
    ] as const) {
      const response = await t.app.inject({
        method,
        url,
        headers: owner.auth,
        ...(method === 'POST' ? { payload: {} } : {}),
      });
      expect(response.statusCode).toBe(403);
      expect(response.json().error).toBe('reauth_required');
    }
  });

  it('refuses extra fields and oversized credential JSON', async () => {
    const session = await signUp(t.app);
    const options = await registrationOptions(t, session);
    const response = newAuthenticator().register(options);
    const extra = await verifyRegistration(t, session, { response: { ...response, role: 'admin' } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().fields).toEqual({ 'response.role': 'is not allowed' });
    const huge = await verifyRegistration(t, session, {
      response: { ...response, response: { ...response.response, clientDataJSON: 'A'.repeat(9000) } },
    });
    expect(huge.statusCode).toBe(400);
    const flow = await loginOptions(t);
    const extraLogin = await loginVerify(t, { flow_token: flow.flow_token, response: {}, user_id: 1 });
    expect(extraLogin.statusCode).toBe(400);
  });
});
