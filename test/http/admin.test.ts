import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_LOCK_UNTIL_MS } from '../../src/modules/accounts/lock-columns.js';
import {
  PASSWORD,
  buildTestApp,
  login,
  register,
  signUp,
  uniqueName,
  type Session,
  type TestApp,
} from '../support/app.js';
import { testDialects } from '../support/databases.js';
import {
  auditRows,
  challenge,
  claimsOf,
  enableTOTP,
  passwordLogin,
  secondStep,
  totpNow,
} from '../support/two-factor.js';

const dialects = await testDialects();

type Auth = { authorization: string } | undefined;

describe.each(dialects)('administration over HTTP on %s', (dialect) => {
  let t: TestApp;
  let admin: Session & { username: string };
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
    admin = await signUpAdmin();
  });
  afterAll(async () => t?.close());

  const db = () => t.database.handle.db;
  const get = (url: string, headers: Auth = admin.auth): Promise<LightMyRequestResponse> =>
    t.app.inject({ url, headers });
  const patch = (id: number, payload: object, headers: Auth = admin.auth): Promise<LightMyRequestResponse> =>
    t.app.inject({ method: 'PATCH', url: `/api/admin/users/${id}`, headers, payload });
  const userRow = (id: number) =>
    db()
      .selectFrom('users')
      .select(['role', 'locked_until', 'failed_attempts'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();

  /** A fresh account promoted in the database, then signed in (so the token says role admin). */
  async function signUpAdmin(): Promise<Session & { username: string }> {
    const created = await signUp(t.app, uniqueName('admin'));
    await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', created.userId).execute();
    return { ...(await login(t.app, created.username)), username: created.username };
  }

  it('refuses every admin route to a normal user (403 forbidden) and to a caller without a token (401)', async () => {
    const user = await signUp(t.app);
    const victim = await signUp(t.app);
    const calls = [
      { method: 'GET', url: '/api/admin/users' },
      { method: 'PATCH', url: `/api/admin/users/${victim.userId}`, payload: { locked: true } },
      { method: 'PATCH', url: `/api/admin/users/${user.userId}`, payload: { role: 'admin' } },
      { method: 'POST', url: `/api/admin/users/${victim.userId}/2fa/reset` },
      { method: 'GET', url: '/api/admin/audit' },
    ] as const;
    for (const call of calls) {
      const asUser = await t.app.inject({ ...call, headers: user.auth });
      expect(asUser.statusCode, `${call.method} ${call.url}`).toBe(403);
      expect(asUser.json().error).toBe('forbidden');
      const anonymous = await t.app.inject(call);
      expect(anonymous.statusCode, `${call.method} ${call.url}`).toBe(401);
      expect(anonymous.json().error).toBe('unauthorized');
    }
    expect(await userRow(user.userId)).toMatchObject({ role: 'user', locked_until: null });
    expect(await userRow(victim.userId)).toMatchObject({ locked_until: null });
  });

  it('lists users with a case-insensitive search on username or email, literal wildcards, and pagination', async () => {
    const p = `s${Math.random().toString(36).slice(2, 8)}`;
    const names = [`${p}one`, `${p}two`, `${p}x.y`];
    for (const name of names) expect((await register(t.app, name)).statusCode).toBe(201);
    const byEmail = uniqueName('mail');
    expect((await register(t.app, byEmail, PASSWORD, `${p}.Contact@Example.com`)).statusCode).toBe(201);

    const all = await get(`/api/admin/users?q=${p.toUpperCase()}`);
    expect(all.statusCode).toBe(200);
    expect(all.json().total).toBe(4);
    expect(all.json().items.map((u: { username: string }) => u.username)).toEqual([...names, byEmail]);
    expect(all.json().items[3]).toMatchObject({
      email: `${p}.Contact@Example.com`,
      role: 'user',
      mfa_enabled: false,
      mfa_methods: [],
      locked_until: null,
      last_login_at: null,
    });

    const first = (await get(`/api/admin/users?q=${p}&limit=2`)).json();
    const second = (await get(`/api/admin/users?q=${p}&limit=2&offset=2`)).json();
    expect(first.total).toBe(4);
    expect(second.total).toBe(4);
    expect([...first.items, ...second.items].map((u: { username: string }) => u.username)).toEqual([...names, byEmail]);

    // `_` and `%` are literal characters, not LIKE wildcards.
    expect((await get(`/api/admin/users?q=${p}_ne`)).json().total).toBe(0);
    expect((await get(`/api/admin/users?q=${encodeURIComponent(`${p}%`)}`)).json().total).toBe(0);

    const everyone = (await get('/api/admin/users')).json();
    expect(everyone.items.length).toBeLessThanOrEqual(20);
    for (const query of ['limit=0', 'limit=101', 'offset=-1', 'limit=abc']) {
      const bad = await get(`/api/admin/users?${query}`);
      expect(bad.statusCode, query).toBe(400);
      expect(bad.json().error).toBe('validation_failed');
    }
  });

  it('shows last_login_at, and locked_until only while the lock lasts', async () => {
    const user = await signUp(t.app);
    const find = async () => (await get(`/api/admin/users?q=${user.username}`)).json().items[0];
    expect(await find()).toMatchObject({
      id: user.userId,
      last_login_at: t.clock.now().toISOString(),
      locked_until: null,
    });

    const until = t.clock.now().getTime() + 60_000;
    await db()
      .updateTable('users')
      .set({ locked_until: until, failed_attempts: 5 })
      .where('id', '=', user.userId)
      .execute();
    expect((await find()).locked_until).toBe(new Date(until).toISOString());
    t.clock.advance(61_000);
    expect((await find()).locked_until).toBeNull();
  });

  it('changes a role and records role.changed with from, to and by', async () => {
    const user = await signUp(t.app);
    const promoted = await patch(user.userId, { role: 'admin' });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json()).toMatchObject({ id: user.userId, role: 'admin', locked_until: null });
    expect((await userRow(user.userId)).role).toBe('admin');
    const events = (await auditRows(t, user.userId)).filter((e) => e.type === 'role.changed');
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.detail)).toEqual({ from: 'user', to: 'admin', by: admin.userId });

    // The stored role decides: a demoted admin's token, which still says "admin", is refused at once.
    const asNewAdmin = await login(t.app, user.username);
    expect((await get('/api/admin/users', asNewAdmin.auth)).statusCode).toBe(200);
    expect((await patch(user.userId, { role: 'user' })).json().role).toBe('user');
    const stale = await get('/api/admin/users', asNewAdmin.auth);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().error).toBe('forbidden');
  });

  it('locks an account (sign-in refused, sessions ended) and unlocks it (sign-in works again)', async () => {
    const user = await signUp(t.app);
    const locked = await patch(user.userId, { locked: true });
    expect(locked.statusCode).toBe(200);
    expect(locked.json()).toMatchObject({ id: user.userId, locked_until: new Date(ADMIN_LOCK_UNTIL_MS).toISOString() });
    expect(await userRow(user.userId)).toMatchObject({ locked_until: ADMIN_LOCK_UNTIL_MS });

    const me = await t.app.inject({ url: '/api/user/me', headers: user.auth });
    expect(me.statusCode).toBe(401);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: user.refreshToken } }))
        .statusCode,
    ).toBe(401);
    const refused = await passwordLogin(t, user.username);
    // An administrator's lock is not a brute-force lock: no Retry-After, it lasts until unlocked.
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({
      error: 'forbidden',
      message: expect.stringMatching(/locked by an administrator/),
    });
    expect(refused.headers['retry-after']).toBeUndefined();
    expect(await userRow(user.userId)).toMatchObject({ locked_until: ADMIN_LOCK_UNTIL_MS });

    const unlocked = await patch(user.userId, { locked: false });
    expect(unlocked.statusCode).toBe(200);
    expect(unlocked.json().locked_until).toBeNull();
    expect(await userRow(user.userId)).toMatchObject({ locked_until: null, failed_attempts: 0 });
    expect((await passwordLogin(t, user.username)).statusCode).toBe(200);

    const types = (await auditRows(t, user.userId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['account.locked', 'account.unlocked']));
    const lockEvent = (await auditRows(t, user.userId)).find(
      (e) => e.type === 'account.locked' && JSON.parse(e.detail).by !== undefined,
    );
    expect(JSON.parse(lockEvent!.detail)).toEqual({ by: admin.userId });
  });

  it('unlock also lifts a brute-force lockout and clears the failure count', async () => {
    const user = await signUp(t.app);
    await db()
      .updateTable('users')
      .set({ locked_until: t.clock.now().getTime() + 900_000, failed_attempts: 9 })
      .where('id', '=', user.userId)
      .execute();
    expect((await patch(user.userId, { locked: false })).statusCode).toBe(200);
    expect(await userRow(user.userId)).toMatchObject({ locked_until: null, failed_attempts: 0 });
    expect((await passwordLogin(t, user.username)).statusCode).toBe(200);
  });

  it('refuses self-demotion and self-lock, empty or unknown changes, and unknown users', async () => {
    const demote = await patch(admin.userId, { role: 'user' });
    expect(demote.statusCode).toBe(400);
    expect(demote.json()).toMatchObject({
      error: 'validation_failed',
      fields: { role: expect.stringMatching(/own admin role/) },
    });
    const lock = await patch(admin.userId, { locked: true });
    expect(lock.statusCode).toBe(400);
    expect(lock.json()).toMatchObject({
      error: 'validation_failed',
      fields: { locked: expect.stringMatching(/own account/) },
    });
    expect(await userRow(admin.userId)).toMatchObject({ role: 'admin', locked_until: null });
    expect((await get('/api/admin/users', admin.auth)).statusCode).toBe(200);
    expect((await patch(admin.userId, { role: 'admin', locked: false })).statusCode).toBe(200);

    for (const body of [{}, { role: 'emperor' }, { locked: 'yes' }]) {
      const bad = await patch(admin.userId, body);
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
      expect(bad.json().error).toBe('validation_failed');
    }
    const ghost = await patch(2_000_000_000, { locked: true });
    expect(ghost.statusCode).toBe(404);
    expect(ghost.json().error).toBe('not_found');
  });

  it('lists audit events newest first, filtered by user and type, paged with before and next_before', async () => {
    const user = await signUp(t.app);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1000);
      const wrong = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers: { 'user-agent': 'AuditTest/1.0' },
        payload: { username: user.username, password: `wrong guess ${i}` },
      });
      expect(wrong.statusCode).toBe(401);
    }
    t.clock.advance(1000);
    await login(t.app, user.username);

    const all = (await get(`/api/admin/audit?user_id=${user.userId}`)).json();
    expect(all.next_before).toBeNull();
    const ids = all.items.map((e: { id: number }) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(all.items.every((e: { user_id: number }) => e.user_id === user.userId)).toBe(true);
    expect(all.items.at(-1).type).toBe('user.registered');
    expect(all.items[0]).toMatchObject({ type: 'login.succeeded', at: t.clock.now().toISOString() });

    const failures = (await get(`/api/admin/audit?user_id=${user.userId}&type=login.failed`)).json().items;
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatchObject({
      type: 'login.failed',
      ip: '127.0.0.1',
      user_agent: 'AuditTest/1.0',
      detail: { reason: 'wrong_password' },
    });
    expect(Date.parse(failures[0].at)).toBeGreaterThan(Date.parse(failures[2].at));
    const byType = (await get('/api/admin/audit?type=login.failed&limit=200')).json().items;
    expect(byType.every((e: { type: string }) => e.type === 'login.failed')).toBe(true);

    const paged: number[] = [];
    let before: number | null = null;
    do {
      const page: { items: Array<{ id: number }>; next_before: number | null } = (
        await get(`/api/admin/audit?user_id=${user.userId}&limit=2${before ? `&before=${before}` : ''}`)
      ).json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items.map((e) => e.id));
      before = page.next_before;
    } while (before !== null);
    expect(paged).toEqual(ids);

    for (const query of ['limit=0', 'limit=201', 'before=abc', 'user_id=x'])
      expect((await get(`/api/admin/audit?${query}`)).statusCode, query).toBe(400);
  });

  it('never stores a password, code or token in the audit trail', async () => {
    const wrongPassword = 'my wrong but secret guess';
    const user = await signUp(t.app);
    await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: user.username, password: wrongPassword },
    });
    const refreshed = (
      await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: user.refreshToken } })
    ).json();
    const { secret, backupCodes } = await enableTOTP(t, user);
    await patch(user.userId, { locked: true });
    await patch(user.userId, { locked: false });
    await patch(user.userId, { role: 'admin' });

    const rows = await db().selectFrom('audit_events').selectAll().execute();
    const listed = (await get('/api/admin/audit?limit=200')).body;
    const secrets = [
      PASSWORD,
      wrongPassword,
      user.accessToken,
      user.refreshToken,
      refreshed.access_token,
      refreshed.refresh_token,
      admin.accessToken,
      secret,
      ...backupCodes,
    ];
    for (const text of [JSON.stringify(rows), listed]) {
      for (const value of secrets) expect(text.includes(value), `audit contains ${value.slice(0, 12)}…`).toBe(false);
    }
  });

  it('requires a second factor in this sign-in from an admin who has 2FA enabled', async () => {
    const otpAdmin = await signUpAdmin();
    const { secret } = await enableTOTP(t, otpAdmin);
    // The token used for setup still has amr ["pwd"]: not enough once 2FA is on.
    expect((await claimsOf(t, otpAdmin.accessToken)).amr).toEqual(['pwd']);
    const refused = await get('/api/admin/users', otpAdmin.auth);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'forbidden', message: expect.stringMatching(/second factor/) });

    const signedIn = await secondStep(t, await challenge(t, otpAdmin.username), totpNow(t, secret));
    expect(signedIn.statusCode).toBe(200);
    const withOTP = { authorization: `Bearer ${signedIn.json().access_token}` };
    expect((await claimsOf(t, signedIn.json().access_token)).amr).toEqual(['pwd', 'otp']);
    expect((await get('/api/admin/users', withOTP)).statusCode).toBe(200);
    expect(
      (await get(`/api/admin/audit?user_id=${otpAdmin.userId}&type=mfa.totp_enabled`, withOTP)).json().items,
    ).toHaveLength(1);
  });
});
