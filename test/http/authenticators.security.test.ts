import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signUp, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { addAuthenticator, challenge, nextStep, outcomes, secondStep, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();
/** REAUTH_MAX_AGE's default: 300 s. */
const MAX_AGE_MS = 300_000;

/**
 * Attacks on the authenticator-app endpoints: another user's id, undeclared fields, a stale sign-in,
 * more apps than allowed, and one code sent twice at once (RFC 6238 §5.2: accepted at most once).
 */
describe.each(dialects)('authenticator apps under attack on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  const names = async (session: Session) =>
    (
      (await t.app.inject({ url: '/api/auth/2fa/authenticators', headers: session.auth })).json()
        .authenticators as Array<{
        name: string;
      }>
    ).map((item) => item.name);
  const rename = (session: Session, id: number | string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'PATCH', url: `/api/auth/2fa/authenticators/${id}`, headers: session.auth, payload });
  const remove = (session: Session, id: number | string) =>
    t.app.inject({ method: 'DELETE', url: `/api/auth/2fa/authenticators/${id}`, headers: session.auth });

  it("answers another user's authenticator id exactly as an unknown one (404 not_found), and leaves it alone", async () => {
    const owner = await signUp(t.app);
    const attacker = await signUp(t.app);
    const phone = await addAuthenticator(t, owner, 'Phone');
    await addAuthenticator(t, attacker, 'Mine');
    for (const response of [
      await rename(attacker, phone.id, { name: 'Stolen' }),
      await remove(attacker, phone.id),
      await rename(attacker, 2_000_000_000, { name: 'Stolen' }),
      await remove(attacker, 2_000_000_000),
    ]) {
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: 'not_found', message: 'Not found.' });
    }
    expect(await names(owner)).toEqual(['Phone']);
    expect(await names(attacker)).toEqual(['Mine']);
    expect(await secondStep(t, await challenge(t, owner.username), totpNow(t, phone.secret))).toHaveProperty(
      'statusCode',
      200,
    );
  });

  it('refuses undeclared fields, bad names and bad ids with 400 validation_failed naming them', async () => {
    const a = await signUp(t.app);
    const phone = await addAuthenticator(t, a, 'Phone');
    const setup = (payload: Record<string, unknown>) =>
      t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth, payload });
    const cases: Array<[Promise<import('fastify').LightMyRequestResponse>, string]> = [
      [setup({ name: 'x', secret: 'JBSWY3DPEHPK3PXP' }), 'secret'],
      [setup({ name: '' }), 'name'],
      [setup({ name: '   ' }), 'name'],
      [setup({ name: 'x'.repeat(65) }), 'name'],
      [setup({ name: 'tab\there' }), 'name'],
      [rename(a, phone.id, { name: 'New', user_id: 1 }), 'user_id'],
      [rename(a, phone.id, {}), 'name'],
      [rename(a, phone.id, { name: 7 }), 'name'],
      [
        t.app.inject({
          method: 'POST',
          url: '/api/auth/2fa/verify-setup',
          headers: a.auth,
          payload: { code: '000000', name: 'x', confirmed_at: 1 },
        }),
        'confirmed_at',
      ],
      [rename(a, 'abc', { name: 'New' }), 'id'],
      [remove(a, 0), 'id'],
    ];
    for (const [pending, field] of cases) {
      const response = await pending;
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json()).toMatchObject({ error: 'validation_failed', fields: { [field]: expect.any(String) } });
    }
    const huge = await rename(a, phone.id, { name: 'x'.repeat(2_000_000) });
    expect([400, 413]).toContain(huge.statusCode);
    expect(await names(a)).toEqual(['Phone']);
  });

  it('removing an app needs a recent sign-in (403 reauth_required); renaming does not', async () => {
    const a = await signUp(t.app);
    const phone = await addAuthenticator(t, a, 'Phone');
    t.clock.advance(MAX_AGE_MS + 1000);
    const stale = await remove(a, phone.id);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('reauth_required');
    const staleSetup = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth });
    expect(staleSetup.json().error).toBe('reauth_required');
    expect((await rename(a, phone.id, { name: 'Renamed' })).statusCode).toBe(200);
    expect(await names(a)).toEqual(['Renamed']);
  });

  it('refuses an 11th app with 409 too_many_authenticators; a setup pending before the 10th is the 10th', async () => {
    const a = await signUp(t.app);
    for (let n = 1; n <= 9; n += 1) await addAuthenticator(t, a, `App ${n}`);
    const early = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth });
    expect(early.statusCode).toBe(200);
    const tenth = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/verify-setup',
      headers: a.auth,
      payload: { code: totpNow(t, early.json().secret), name: 'App 10' },
    });
    expect(tenth.statusCode).toBe(200);
    nextStep(t);
    const eleventh = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth });
    expect(eleventh.statusCode).toBe(409);
    expect(eleventh.json()).toEqual({ error: 'too_many_authenticators', message: expect.stringContaining('10') });
    expect(await names(a)).toHaveLength(10);
  });

  /** Four verify-setups of the one pending setup at once, with the same right code: the refusals. */
  const confirmAtOnce = async (session: Session) => {
    const setup = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: session.auth });
    expect(setup.statusCode).toBe(200);
    const code = totpNow(t, setup.json().secret);
    const answers = await Promise.all(
      [0, 1, 2, 3].map(() =>
        t.app.inject({ method: 'POST', url: '/api/auth/2fa/verify-setup', headers: session.auth, payload: { code } }),
      ),
    );
    nextStep(t);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 409, 409, 409]);
    return answers.filter((r) => r.statusCode === 409).map((r) => r.json() as { error: string; message: string });
  };
  // A loser either read the setup before the winner confirmed it (then the confirmation under the
  // user's lock refuses it) or after (then no setup is pending); either way it confirms nothing.
  const NOTHING_PENDING = 'No authenticator app is waiting to be confirmed: start with POST /api/auth/2fa/setup.';

  it('of confirmations of one setup at once, one adds the app; the others are 409 mfa_already_enabled', async () => {
    const a = await signUp(t.app);
    for (const loser of await confirmAtOnce(a)) expect(loser.error).toBe('mfa_already_enabled');
    expect(await names(a)).toHaveLength(1);
  });

  it('of confirmations of the 10th app at once, the others are refused as the 11th (409 too_many_authenticators)', async () => {
    const a = await signUp(t.app);
    for (let n = 1; n <= 9; n += 1) await addAuthenticator(t, a, `App ${n}`);
    for (const loser of await confirmAtOnce(a)) {
      if (loser.error === 'mfa_already_enabled') expect(loser.message).toBe(NOTHING_PENDING);
      else expect(loser.error).toBe('too_many_authenticators');
    }
    expect(await names(a)).toHaveLength(10);
  });

  it('of two sign-ins sending the same code at once, exactly one succeeds', async () => {
    const a = await signUp(t.app);
    await addAuthenticator(t, a, 'Phone');
    const tablet = await addAuthenticator(t, a, 'Tablet');
    const tokens = [await challenge(t, a.username), await challenge(t, a.username)];
    const code = totpNow(t, tablet.secret);
    const answers = await Promise.all(tokens.map((token) => secondStep(t, token, code)));
    expect(outcomes(answers)).toEqual({ '200': 1, '401 invalid_mfa_code': 1 });
  });

  it('removing the last two apps at once turns 2FA off once: no app, no backup code left', async () => {
    const a = await signUp(t.app);
    const phone = await addAuthenticator(t, a, 'Phone');
    const tablet = await addAuthenticator(t, a, 'Tablet');
    const answers = await Promise.all([remove(a, phone.id), remove(a, tablet.id)]);
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(answers.map((r) => r.json().enabled).sort()).toEqual([false, true]);
    expect((await t.app.inject({ url: '/api/auth/2fa', headers: a.auth })).json()).toEqual({
      totp_enabled: false,
      email_enabled: false,
      backup_codes_remaining: 0,
      totp_count: 0,
    });
  });
});
