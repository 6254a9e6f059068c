import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import type { App } from '../../src/http/server.js';
import { TEST_SECRETS } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import {
  accountOn,
  accountWithAddressOn,
  buildPolicyApps,
  mailEnv,
  passwordLoginOn,
  payloadOf,
  sessionCount,
  setupTokenOf,
  type PolicyApps,
} from '../support/require-2fa.js';
import { auditRows, enableTOTP, nextStep, totpNow } from '../support/two-factor.js';

/**
 * REQUIRE_2FA=off|admin|all at sign-in (docs/security.md, "Required second factor"): who gets tokens,
 * who gets a set-up token, and how setting up the first factor with it signs the person in, once.
 */

describe('REQUIRE_2FA in the configuration', () => {
  const load = (value?: string) =>
    loadConfig({ NODE_ENV: 'test', ...TEST_SECRETS, ...(value === undefined ? {} : { REQUIRE_2FA: value }) });

  it('defaults to off and reads off, admin and all (any case, trimmed)', () => {
    expect(load().require2fa).toBe('off');
    expect(load('').require2fa).toBe('off');
    expect(load('admin').require2fa).toBe('admin');
    expect(load(' ALL ').require2fa).toBe('all');
    expect(load('off').require2fa).toBe('off');
  });

  it('refuses anything else at start-up, naming the variable and the allowed values', () => {
    for (const value of ['yes', 'true', 'admins', 'user']) {
      expect(() => load(value)).toThrow(ConfigError);
      expect(() => load(value)).toThrow(`REQUIRE_2FA must be off, admin or all (got "${value}").`);
    }
  });
});

const dialects = await testDialects();

let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => mailbox?.close());

/** `twofold_logins_total` by outcome, as GET /metrics shows it (each app has its own registry). */
async function loginCounts(app: App): Promise<Record<string, number>> {
  const body = (await app.inject({ url: '/metrics' })).body;
  const counts: Record<string, number> = {};
  for (const [, outcome, value] of body.matchAll(/^twofold_logins_total\{outcome="(\w+)"\} (\S+)$/gm))
    counts[outcome!] = Number(value);
  return counts;
}

/** How much each outcome grew from `before` to `after` (outcomes that did not move are left out). */
function grown(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([outcome, value]) => [outcome, value - (before[outcome] ?? 0)] as const)
      .filter(([, delta]) => delta !== 0),
  );
}

describe.each(dialects)('REQUIRE_2FA at sign-in on %s', (dialect) => {
  let p: PolicyApps;
  beforeAll(async () => {
    p = await buildPolicyApps(dialect, mailEnv(mailbox));
  });
  afterAll(async () => p?.close());

  /** The user's audit events from the `skip`th on: type and parsed detail. */
  async function eventsSince(userId: number, skip: number): Promise<Array<{ type: string; detail: unknown }>> {
    return (await auditRows(p.t, userId))
      .slice(skip)
      .map((row) => ({ type: row.type, detail: JSON.parse(row.detail || '{}') as unknown }));
  }

  it('off: an account without a second factor signs in as before, admin or not', async () => {
    for (const role of ['user', 'admin'] as const) {
      const account = await accountOn(p, role);
      const response = await passwordLoginOn(p.apps.off, account.username);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ token_type: 'Bearer', '2fa_required': false });
    }
  });

  it('admin: an admin without a factor gets a set-up token instead of tokens; a user gets tokens', async () => {
    const admin = await accountOn(p, 'admin');
    const user = await accountOn(p, 'user');
    const before = await sessionCount(p, admin.userId);
    const response = await passwordLoginOn(p.apps.admin, admin.username);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['expires_in', 'mfa_methods', 'mfa_setup_required', 'setup_token']);
    expect(body).toMatchObject({ mfa_setup_required: true, expires_in: 600, mfa_methods: ['totp'] });
    // No session, no refresh token, no cookie: nothing that outlives the set-up token.
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(await sessionCount(p, admin.userId)).toBe(before);
    const claims = payloadOf(body.setup_token);
    expect(claims).toMatchObject({ sub: String(admin.userId), scope: 'mfa_setup', amr: ['pwd'], sid: 0 });
    expect(claims.exp).toBe((claims.iat as number) + 600);
    expect(claims.auth_time).toBe(Math.floor(p.t.clock.now().getTime() / 1000));

    const userLogin = await passwordLoginOn(p.apps.admin, user.username);
    expect(userLogin.json()).toMatchObject({ token_type: 'Bearer', '2fa_required': false });
  });

  it('all: everyone without a factor gets the set-up answer, on the compatibility route and with a totp_code too', async () => {
    const user = await accountOn(p, 'user');
    for (const [url, extra] of [
      ['/api/auth/login', {}],
      ['/login', {}],
      ['/api/auth/login', { totp_code: '123456' }],
    ] as const) {
      const response = await passwordLoginOn(p.apps.all, user.username, extra, url);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ mfa_setup_required: true, mfa_methods: ['totp'] });
    }
  });

  it('offers email codes only for a verified address when mail can be sent', async () => {
    const user = await accountOn(p, 'user');
    const { db } = p.t.database.handle;
    await db
      .updateTable('users')
      .set({ email: `${user.username}@example.test` })
      .where('id', '=', user.userId)
      .execute();
    expect((await setupTokenOf(p.apps.all, user.username)).body.mfa_methods).toEqual(['totp']);
    await db.updateTable('users').set({ email_verified: 1 }).where('id', '=', user.userId).execute();
    expect((await setupTokenOf(p.apps.all, user.username)).body.mfa_methods).toEqual(['totp', 'email']);
  });

  it('an account with a second factor is unaffected: the usual challenge, then tokens that work', async () => {
    const admin = await accountOn(p, 'admin');
    const { secret } = await enableTOTP({ ...p.t, app: p.apps.off }, admin);
    const challenge = (await passwordLoginOn(p.apps.all, admin.username)).json();
    expect(challenge).toMatchObject({ mfa_required: true, mfa_methods: ['totp', 'backup_code'] });
    const tokens = await p.apps.all.inject({
      method: 'POST',
      url: '/api/auth/2fa/login',
      payload: { mfa_token: challenge.mfa_token, code: totpNow(p.t, secret) },
    });
    expect(tokens.statusCode).toBe(200);
    nextStep(p.t);
    const auth = { authorization: `Bearer ${tokens.json().access_token}` };
    expect((await p.apps.all.inject({ method: 'GET', url: '/api/products', headers: auth })).statusCode).toBe(200);
    expect((await p.apps.all.inject({ method: 'GET', url: '/api/admin/users', headers: auth })).statusCode).toBe(200);
  });

  it('setting up TOTP with the set-up token signs in: tokens with amr pwd,otp, a session, the cookies of a login', async () => {
    const user = await accountOn(p, 'user');
    const { auth } = await setupTokenOf(p.apps.all, user.username);
    // What the set-up screen reads first.
    expect((await p.apps.all.inject({ method: 'GET', url: '/api/user/me', headers: auth })).json()).toMatchObject({
      id: user.userId,
      mfa_enabled: false,
    });
    expect((await p.apps.all.inject({ method: 'GET', url: '/api/auth/2fa', headers: auth })).statusCode).toBe(200);
    const setup = await p.apps.all.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: auth });
    expect(setup.statusCode).toBe(200);
    const before = await sessionCount(p, user.userId);
    const verified = await p.apps.all.inject({
      method: 'POST',
      url: '/api/auth/2fa/verify-setup',
      headers: { ...auth, 'x-requested-with': 'twofold' },
      payload: { code: totpNow(p.t, setup.json().secret) },
    });
    expect(verified.statusCode).toBe(200);
    const body = verified.json();
    expect(body).toMatchObject({ enabled: true, tokens: { token_type: 'Bearer', user: { id: user.userId } } });
    expect(body.backup_codes).toHaveLength(10);
    expect(payloadOf(body.tokens.access_token)).toMatchObject({ amr: ['pwd', 'otp'] });
    expect(payloadOf(body.tokens.access_token).scope).toBeUndefined();
    expect(body.tokens.user).toMatchObject({ mfa_enabled: true, mfa_methods: ['totp'] });
    expect(await sessionCount(p, user.userId)).toBe(before + 1);
    const cookies = String(verified.headers['set-cookie']);
    expect(cookies).toContain('twofold_refresh=');
    expect(cookies).toContain('twofold_device');
    expect(verified.headers['cache-control']).toContain('no-store');

    const signedIn = { authorization: `Bearer ${body.tokens.access_token}` };
    expect((await p.apps.all.inject({ method: 'GET', url: '/api/products', headers: signedIn })).statusCode).toBe(200);
    const refreshed = await p.apps.all.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: body.tokens.refresh_token },
    });
    expect(refreshed.statusCode).toBe(200);
    nextStep(p.t);
  });

  it('setting up email codes with the set-up token signs in too', async () => {
    const user = await accountWithAddressOn(p, 'admin');
    const { email } = user;
    const { auth } = await setupTokenOf(p.apps.admin, user.username);
    const sent = await p.apps.admin.inject({ method: 'POST', url: '/api/auth/2fa/email/enable', headers: auth });
    expect(sent.statusCode).toBe(202);
    const verified = await p.apps.admin.inject({
      method: 'POST',
      url: '/api/auth/2fa/email/verify-setup',
      headers: auth,
      payload: { code: mailbox.latestCode(email) },
    });
    expect(verified.statusCode).toBe(200);
    const body = verified.json();
    expect(body).toMatchObject({ enabled: true, tokens: { user: { mfa_methods: ['email'] } } });
    expect(body.backup_codes).toHaveLength(10);
    const succeeded = (await auditRows(p.t, user.userId)).filter((row) => row.type === 'login.succeeded');
    expect(JSON.parse(succeeded.at(-1)!.detail)).toEqual({ amr: 'pwd,otp', method: 'email', setup: 'true' });
    // The admin signed in this way may administer at once.
    const signedIn = { authorization: `Bearer ${body.tokens.access_token}` };
    expect((await p.apps.admin.inject({ method: 'GET', url: '/api/admin/users', headers: signedIn })).statusCode).toBe(
      200,
    );
  });

  it('the set-up answer and the sign-in its set-up completes are counted and audited as such', async () => {
    // The operator's metric and the investigator's trail tell a sign-in sent to set up a factor from a
    // refused one, and the sign-in the set-up completed from an ordinary one (OWASP Logging Cheat Sheet).
    const user = await accountOn(p, 'user');
    const seen = (await auditRows(p.t, user.userId)).length;
    const counted = await loginCounts(p.apps.all);
    const { auth } = await setupTokenOf(p.apps.all, user.username);
    expect(grown(counted, await loginCounts(p.apps.all))).toEqual({ mfa_setup_required: 1 });
    const [asked] = (await auditRows(p.t, user.userId)).slice(seen);
    expect(asked).toMatchObject({ type: 'mfa.setup_required', ip: '127.0.0.1' });

    const setup = await p.apps.all.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: auth });
    const verified = await p.apps.all.inject({
      method: 'POST',
      url: '/api/auth/2fa/verify-setup',
      headers: auth,
      payload: { code: totpNow(p.t, setup.json().secret) },
    });
    expect(verified.json().tokens).toBeDefined();
    expect(grown(counted, await loginCounts(p.apps.all))).toEqual({ mfa_setup_required: 1, success: 1 });
    const events = await eventsSince(user.userId, seen);
    expect(events[0]).toEqual({ type: 'mfa.setup_required', detail: {} });
    expect(events.at(-1)).toEqual({
      type: 'login.succeeded',
      detail: { amr: 'pwd,otp', method: 'totp', setup: 'true' },
    });
    nextStep(p.t);
  });

  it('a signed-in set-up (a normal session) answers as before: no tokens field', async () => {
    const user = await accountOn(p, 'user');
    const setup = await p.apps.off.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: user.auth });
    const verified = await p.apps.off.inject({
      method: 'POST',
      url: '/api/auth/2fa/verify-setup',
      headers: user.auth,
      payload: { code: totpNow(p.t, setup.json().secret) },
    });
    expect(Object.keys(verified.json()).sort()).toEqual(['backup_codes', 'enabled']);
    nextStep(p.t);
  });
});
