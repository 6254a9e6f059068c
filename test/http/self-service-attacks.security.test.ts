import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/server.js';
import { buildTestApp, login, PASSWORD, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { changeToken, freshAddress } from '../support/email-change.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { resetPassword, resetToken, verifyEmail } from '../support/recovery.js';
import {
  accountOn,
  buildPolicyApps,
  errorOf,
  sessionCount,
  setupTokenOf,
  type PolicyApps,
} from '../support/require-2fa.js';
import { bearer, nextStep, totpNow } from '../support/two-factor.js';

/**
 * The self-service endpoints (address change, export, deletion, several authenticator apps, the
 * REQUIRE_2FA set-up token) attacked together: each test here is a finding that was fixed, written
 * before its fix and seen to fail without it, except the block of attacks that held, kept so they
 * keep holding.
 */

const dialects = await testDialects();

type Auth = { authorization: string };
const call = (app: App, method: 'GET' | 'POST', url: string, headers: Auth, payload?: object) =>
  app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

describe.each(dialects)('set-up tokens against an account that has a factor by now on %s', (dialect) => {
  let p: PolicyApps;
  beforeAll(async () => {
    p = await buildPolicyApps(dialect);
  });
  afterAll(async () => p?.close());

  it('a set-up token issued before the owner set up a factor cannot add a second app and sign in past it', async () => {
    const user = await accountOn(p, 'user');
    // The attacker knows the password only, and signs in first: a set-up token, live 10 minutes.
    const stolen = await setupTokenOf(p.apps.all, user.username);
    // The owner signs in, sets up their authenticator app and is signed in with it.
    const owner = await setupTokenOf(p.apps.all, user.username);
    const { secret } = (await call(p.apps.all, 'POST', '/api/auth/2fa/setup', owner.auth)).json();
    const done = await call(p.apps.all, 'POST', '/api/auth/2fa/verify-setup', owner.auth, {
      code: totpNow(p.t, secret),
    });
    expect(done.json().tokens).toBeDefined();
    nextStep(p.t);
    const sessions = await sessionCount(p, user.userId);

    // The account's sign-in now asks for that factor: the older set-up token is no way around it.
    expect(errorOf(await call(p.apps.all, 'GET', '/api/auth/2fa', stolen.auth))).toBe('401 unauthorized');
    const setup = await call(p.apps.all, 'POST', '/api/auth/2fa/setup', stolen.auth, { name: 'attacker' });
    expect(errorOf(setup)).toBe('401 unauthorized');
    const own = setup.statusCode === 200 ? (setup.json().secret as string) : secret;
    const added = await call(p.apps.all, 'POST', '/api/auth/2fa/verify-setup', stolen.auth, {
      code: totpNow(p.t, own),
    });
    expect(errorOf(added)).toBe('401 unauthorized');
    expect(await sessionCount(p, user.userId)).toBe(sessions);
    const apps = await p.t.database.handle.db
      .selectFrom('totp_factors')
      .select('id')
      .where('user_id', '=', user.userId)
      .execute();
    expect(apps).toHaveLength(1);
    nextStep(p.t);
  });
});

describe.each(dialects)('attacks that held, kept as guards, on %s', (dialect) => {
  let p: PolicyApps;
  let mailbox: Mailbox;
  beforeAll(async () => {
    mailbox = await startMailbox();
    p = await buildPolicyApps(dialect, { SMTP_URL: mailbox.url });
  });
  afterAll(async () => {
    await p?.close();
    await mailbox?.close();
  });

  it('a set-up token is refused on every self-service route (export, deletion, apps, address change)', async () => {
    const user = await accountOn(p, 'user');
    const { auth } = await setupTokenOf(p.apps.all, user.username);
    const routes: Array<[method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object]> = [
      ['GET', '/api/user/me/export'],
      ['DELETE', '/api/user/me', { confirm: user.username }],
      ['GET', '/api/auth/2fa/authenticators'],
      ['PATCH', '/api/auth/2fa/authenticators/1', { name: 'mine' }],
      ['DELETE', '/api/auth/2fa/authenticators/1'],
      ['POST', '/api/auth/email/change', { email: freshAddress() }],
      ['GET', '/api/auth/email/pending'],
    ];
    for (const [method, url, payload] of routes) {
      const response = await p.apps.all.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
      expect(`${method} ${url}: ${errorOf(response)}`).toBe(`${method} ${url}: 403 mfa_setup_required`);
    }
    expect(await sessionCount(p, user.userId)).toBe(1);
  });

  it('a change link is no reset link, and a reset link no change link', async () => {
    const user = await accountOn(p, 'user');
    const email = freshAddress('old');
    await p.t.database.handle.db
      .updateTable('users')
      .set({ email, email_normalized: email, email_verified: 1 })
      .where('id', '=', user.userId)
      .execute();
    // The server without the policy: the password-only session may change the address there.
    const off = { ...p.t, app: p.apps.off };
    const change = await changeToken(off, mailbox, user.auth, freshAddress('next'));
    const reset = await resetToken(off, mailbox, email);
    const invalid = '400 validation_failed';
    expect(errorOf(await resetPassword(off, change))).toBe(invalid);
    const check = await off.app.inject({
      method: 'POST',
      url: '/api/auth/password/reset/check',
      payload: { token: change },
    });
    expect(errorOf(check)).toBe(invalid);
    expect(errorOf(await verifyEmail(off, reset))).toBe(invalid);
    // Each still works for what it is.
    expect((await verifyEmail(off, change)).statusCode).toBe(200);
    // The change took the account away from the old address: its reset link died with it.
    expect(errorOf(await resetPassword(off, reset))).toBe(invalid);
  });
});

describe.each(dialects)('the data export on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  it("holds the administrator's actions on the account, but not the administrator's address or browser", async () => {
    const adminAccount = await signUp(t.app, uniqueName('admin'));
    await t.database.handle.db
      .updateTable('users')
      .set({ role: 'admin' })
      .where('id', '=', adminAccount.userId)
      .execute();
    const ADMIN_IP = '203.0.113.77';
    const ADMIN_AGENT = 'AdminWorkstation/9.1';
    const admin = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: ADMIN_IP,
      headers: { 'user-agent': ADMIN_AGENT },
      payload: { username: adminAccount.username, password: PASSWORD },
    });
    const adminAuth = bearer(admin.json().access_token as string);
    const user = await signUp(t.app, uniqueName('user'));
    for (const url of [`/api/admin/users/${user.userId}/logout-all`, `/api/admin/users/${user.userId}/2fa/reset`]) {
      const acted = await t.app.inject({
        method: 'POST',
        url,
        remoteAddress: ADMIN_IP,
        headers: { ...adminAuth, 'user-agent': ADMIN_AGENT },
      });
      expect(acted.statusCode, acted.body).toBeLessThan(300);
    }
    const again = await login(t.app, user.username);
    const exported = await t.app.inject({ url: '/api/user/me/export', headers: again.auth });
    expect(exported.statusCode).toBe(200);
    const events = exported.json().audit_events as Array<{ type: string; detail: { by?: unknown } }>;
    // The person learns what was done to their account, and by which account…
    expect(events.find((e) => e.type === 'sessions.revoked')?.detail.by).toBe(adminAccount.userId);
    expect(events.find((e) => e.type === 'mfa.reset')?.detail.by).toBe(adminAccount.userId);
    // …but the administrator's IP address and browser are the administrator's personal data (GDPR
    // Art. 15(4): the right of access must not adversely affect the rights of others).
    expect(exported.body).not.toContain(ADMIN_IP);
    expect(exported.body).not.toContain(ADMIN_AGENT);
  });
});
