import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/server.js';
import { buildTestApp, login, PASSWORD, signUp, uniqueName, type TestApp } from '../support/app.js';
import { randomToken, sha256Hex } from '../../src/lib/crypto.js';
import { testDialects } from '../support/databases.js';
import {
  accountOn,
  buildPolicyApps,
  errorOf,
  sessionCount,
  setupTokenOf,
  type PolicyApps,
} from '../support/require-2fa.js';
import { addAuthenticator, bearer, nextStep, totpNow } from '../support/two-factor.js';

/**
 * The self-service endpoints (address change, export, deletion, several authenticator apps, the
 * REQUIRE_2FA set-up token) attacked together: each test here is a finding that was fixed, written
 * before its fix and seen to fail without it.
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

describe.each(dialects)('deleting an account while its sessions refresh on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  it('never answers 500, and no token refreshed meanwhile outlives the account', { timeout: 120_000 }, async () => {
    const statuses = new Set<number>();
    // Each round races the deletion against a refresh on each of the account's devices: InnoDB picks
    // one of the two transactions as a deadlock victim now and then, which must be run again.
    for (let round = 0; round < 15; round++) {
      const user = await signUp(t.app, uniqueName('race'));
      const devices = [user, ...(await Promise.all([1, 2, 3].map(() => login(t.app, user.username))))];
      const [deleted, ...refreshed] = await Promise.all([
        t.app.inject({
          method: 'DELETE',
          url: '/api/user/me',
          headers: user.auth,
          payload: { confirm: user.username },
        }),
        ...devices.map((device) =>
          t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: device.refreshToken } }),
        ),
      ]);
      expect(deleted?.statusCode, deleted?.body).toBe(204);
      for (const response of refreshed) {
        statuses.add(response.statusCode);
        expect([200, 401], response.body).toContain(response.statusCode);
        if (response.statusCode !== 200) continue;
        const tokens = response.json() as { access_token: string; refresh_token: string };
        expect((await t.app.inject({ url: '/api/user/me', headers: bearer(tokens.access_token) })).statusCode).toBe(
          401,
        );
        const again = await t.app.inject({
          method: 'POST',
          url: '/api/auth/refresh',
          payload: { refresh_token: tokens.refresh_token },
        });
        expect(again.statusCode).toBe(401);
      }
    }
    expect(statuses.has(500)).toBe(false);
  });

  it(
    'a sign-in racing the deletion answers as for an unknown account (401), never 500, and opens no session',
    { timeout: 120_000 },
    async () => {
      for (let round = 0; round < 15; round++) {
        const user = await signUp(t.app, uniqueName('gone'));
        // Every other account has an authenticator app: its sign-in opens a challenge instead of a session.
        if (round % 2 === 1) await addAuthenticator(t, user);
        const [deleted, ...signIns] = await Promise.all([
          t.app.inject({
            method: 'DELETE',
            url: '/api/user/me',
            headers: user.auth,
            payload: { confirm: user.username },
          }),
          ...[1, 2].map(() =>
            t.app.inject({
              method: 'POST',
              url: '/api/auth/login',
              payload: { username: user.username, password: PASSWORD },
            }),
          ),
        ]);
        expect(deleted?.statusCode, deleted?.body).toBe(204);
        for (const response of signIns) {
          if (response.statusCode === 200) {
            if (response.json().access_token === undefined) continue;
            // Signed in just before the deletion: the session went with the account.
            const me = await t.app.inject({ url: '/api/user/me', headers: bearer(response.json().access_token) });
            expect(me.statusCode).toBe(401);
            continue;
          }
          expect(`${response.statusCode} ${response.json().error}`, response.body).toMatch(
            /^(401 invalid_credentials|429 too_many_attempts)$/,
          );
        }
      }
    },
  );

  it(
    'password checks and a change link racing the deletion never answer 500 (deadlock victims run again)',
    { timeout: 120_000 },
    async () => {
      const failures: string[] = [];
      for (let round = 0; round < 12; round++) {
        const user = await signUp(t.app, uniqueName('lock'));
        const laptop = await login(t.app, user.username);
        await addAuthenticator(t, laptop);
        const password = { password: PASSWORD };
        // A change link waiting for its use (as if mailed): using it rewrites the same users row.
        const changeToken = randomToken(32);
        await t.database.handle.db
          .insertInto('email_changes')
          .values({
            user_id: user.userId,
            token_hash: sha256Hex(changeToken),
            new_email: `${user.username.toLowerCase()}@example.com`,
            created_at: t.clock.now().getTime(),
            expires_at: t.clock.now().getTime() + 3_600_000,
          })
          .execute();
        // Each of these counts an attempt on the account's lock columns (the users row the deletion removes).
        const responses = await Promise.all([
          t.app.inject({
            method: 'DELETE',
            url: '/api/user/me',
            headers: user.auth,
            payload: { confirm: user.username },
          }),
          t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: user.username, ...password } }),
          t.app.inject({ method: 'POST', url: '/api/auth/2fa/backup-codes', headers: laptop.auth, payload: password }),
          t.app.inject({ method: 'POST', url: '/api/auth/reauth', headers: laptop.auth, payload: password }),
          t.app.inject({ method: 'POST', url: '/api/auth/2fa/backup-codes', headers: laptop.auth, payload: password }),
          t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: user.username, ...password } }),
          t.app.inject({ method: 'POST', url: '/api/auth/email/verify', payload: { token: changeToken } }),
          t.app.inject({ url: '/api/user/me/export', headers: laptop.auth }),
          t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: laptop.auth, payload: { name: 'x' } }),
        ]);
        expect(responses[0]?.statusCode).toBe(204);
        for (const response of responses) if (response.statusCode >= 500) failures.push(response.body);
      }
      expect(failures).toEqual([]);
    },
  );

  it(
    'events of requests still under way when the account went keep no IP address or browser of the person',
    { timeout: 120_000 },
    async () => {
      const deletedIds: number[] = [];
      for (let round = 0; round < 10; round++) {
        const user = await signUp(t.app, uniqueName('trail'));
        const laptop = await login(t.app, user.username);
        if (round % 2 === 1) await addAuthenticator(t, laptop);
        await Promise.all([
          t.app.inject({
            method: 'DELETE',
            url: '/api/user/me',
            headers: user.auth,
            payload: { confirm: user.username },
          }),
          ...[1, 2].map(() =>
            t.app.inject({
              method: 'POST',
              url: '/api/auth/login',
              payload: { username: user.username, password: PASSWORD },
            }),
          ),
          t.app.inject({
            method: 'POST',
            url: '/api/auth/reauth',
            headers: laptop.auth,
            payload: { password: PASSWORD },
          }),
        ]);
        deletedIds.push(user.userId);
      }
      // The deletion's erasure covers the events written before it; one written by a request that
      // passed its checks just before must not bring the person's IP address and browser back.
      const kept = await t.database.handle.db
        .selectFrom('audit_events')
        .select(['type', 'user_id', 'ip', 'user_agent'])
        .where('user_id', 'in', deletedIds)
        .where((eb) => eb.or([eb('ip', 'is not', null), eb('user_agent', 'is not', null)]))
        .execute();
      expect(kept).toEqual([]);
    },
  );
});
