import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signUp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { passkeySecondStep, secondStepChallenge } from '../support/passkey-second-step.js';
import { PASSKEY_ENV, addPasskey, loginOptions, newAuthenticator, passkeySignIn } from '../support/passkeys.js';
import { auditRows, challenge, enableTOTP } from '../support/two-factor.js';

const dialects = await testDialects();

/** An origin the relying party does not serve: the assertion's signature is then refused (WebAuthn L3 §7.2). */
const FOREIGN_ORIGIN = 'https://evil.example.test';

/** `twofold_logins_total` by outcome, as GET /metrics shows it (each app has its own registry). */
async function loginCounts(t: TestApp): Promise<Record<string, number>> {
  const body = (await t.app.inject({ url: '/metrics' })).body;
  const counts: Record<string, number> = {};
  for (const [, outcome, value] of body.matchAll(/^twofold_logins_total\{outcome="(\w+)"\} (\S+)$/gm))
    counts[outcome!] = Number(value);
  return counts;
}

/** How much each outcome grew from `before` to now (outcomes that did not move are left out). */
async function grownSince(t: TestApp, before: Record<string, number>): Promise<Record<string, number>> {
  const after = await loginCounts(t);
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, d]) => d !== 0),
  );
}

/** The user's audit rows after the first `skip`, as type and parsed detail. */
async function rowsSince(t: TestApp, userId: number, skip: number): Promise<Array<{ type: string; detail: unknown }>> {
  return (await auditRows(t, userId))
    .slice(skip)
    .map((r) => ({ type: r.type, detail: r.detail === null ? null : JSON.parse(r.detail) }));
}

/**
 * Each passkey sign-in leaves its exact audit row and moves the login counter by one: the security
 * log must tell which credential signed a person in and why a passkey was refused (OWASP Logging
 * Cheat Sheet: authentication successes and failures).
 */
describe.each(dialects)('passkey sign-ins in the audit log and the metrics on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: PASSKEY_ENV });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a passwordless sign-in names the passkey in login.succeeded and counts a success', async () => {
    const session = await signUp(t.app);
    const key = newAuthenticator();
    const passkey = await addPasskey(t, session, key);
    const skip = (await auditRows(t, session.userId)).length;
    const before = await loginCounts(t);
    expect((await passkeySignIn(t, key)).statusCode).toBe(200);
    expect(await rowsSince(t, session.userId, skip)).toEqual([
      { type: 'login.succeeded', detail: { amr: 'hwk,mfa', method: 'passkey', passkey_id: String(passkey.id) } },
    ]);
    expect(await grownSince(t, before)).toEqual({ success: 1 });
  });

  it('a refused passwordless assertion is login.failed {reason: passkey_signature}, an invalid credential', async () => {
    const session = await signUp(t.app);
    const key = newAuthenticator();
    await addPasskey(t, session, key);
    const skip = (await auditRows(t, session.userId)).length;
    const before = await loginCounts(t);
    const refused = await passkeySignIn(t, key, { origin: FOREIGN_ORIGIN });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error).toBe('invalid_credentials');
    expect(await rowsSince(t, session.userId, skip)).toEqual([
      { type: 'login.failed', detail: { reason: 'passkey_signature' } },
    ]);
    expect(await grownSince(t, before)).toEqual({ invalid_credentials: 1 });
  });

  it('a passkey as the second step is mfa.used then login.succeeded, both naming the passkey', async () => {
    const session = await signUp(t.app);
    const key = newAuthenticator();
    const passkey = await addPasskey(t, session, key);
    const mfaToken = await challenge(t, session.username);
    const skip = (await auditRows(t, session.userId)).length;
    const before = await loginCounts(t);
    const done = await passkeySecondStep(t, mfaToken, key.assert(await secondStepChallenge(t, mfaToken)));
    expect(done.statusCode).toBe(200);
    const detail = { method: 'passkey', passkey_id: String(passkey.id) };
    expect(await rowsSince(t, session.userId, skip)).toEqual([
      { type: 'mfa.used', detail },
      { type: 'login.succeeded', detail: { amr: 'pwd,hwk', ...detail } },
    ]);
    expect(await grownSince(t, before)).toEqual({ success: 1 });
  });

  it('a refused second-step assertion is mfa.failed {method: passkey, reason: signature}, a wrong code', async () => {
    const session = await signUp(t.app);
    const key = newAuthenticator();
    await addPasskey(t, session, key);
    const mfaToken = await challenge(t, session.username);
    const skip = (await auditRows(t, session.userId)).length;
    const before = await loginCounts(t);
    const options = await secondStepChallenge(t, mfaToken);
    const refused = await passkeySecondStep(t, mfaToken, key.assert(options, { origin: FOREIGN_ORIGIN }));
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error).toBe('invalid_mfa_code');
    expect(await rowsSince(t, session.userId, skip)).toEqual([
      { type: 'mfa.failed', detail: { method: 'passkey', reason: 'signature' } },
    ]);
    expect(await grownSince(t, before)).toEqual({ invalid_mfa_code: 1 });
  });

  it('after a passkey first step a passkey second step is refused as first_factor, whatever it signed', async () => {
    // The options step refuses this flow a passkey challenge; an assertion sent anyway (here over a
    // passwordless challenge) is refused before any lookup, and the log says why.
    const session = await signUp(t.app);
    await enableTOTP(t, session);
    const key = newAuthenticator();
    await addPasskey(t, session, key);
    const first = await passkeySignIn(t, key, { uv: false });
    expect(first.json()).toMatchObject({ mfa_required: true });
    const mfaToken = first.json().mfa_token as string;
    const skip = (await auditRows(t, session.userId)).length;
    const before = await loginCounts(t);
    const refused = await passkeySecondStep(t, mfaToken, key.assert((await loginOptions(t)).options));
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error).toBe('invalid_mfa_code');
    expect(await rowsSince(t, session.userId, skip)).toEqual([
      { type: 'mfa.failed', detail: { method: 'passkey', reason: 'first_factor' } },
    ]);
    expect(await grownSince(t, before)).toEqual({ invalid_mfa_code: 1 });
  });
});
