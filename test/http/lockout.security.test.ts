import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey } from '../../src/lib/crypto.js';
import { DEVICE_COOKIE_PREFIX, createDeviceCookies } from '../../src/modules/lockout/device-cookie.js';
import {
  PASSWORD,
  TEST_SECRETS,
  buildTestApp,
  login,
  register,
  signUp,
  uniqueName,
  type TestApp,
} from '../support/app.js';
import { testDialects } from '../support/databases.js';
import type { Mailbox } from '../support/mailbox.js';
import { NEW_PASSWORD, resetPassword, resetToken, startMailApp } from '../support/recovery.js';
import { auditRows, enableTOTP, nextStep, otherCode, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();
const WRONG = 'definitely not the password';

describe.each(dialects)('per-account brute-force lockout on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  const attempt = (username: string, password: string) =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });

  async function failTimes(username: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) expect((await attempt(username, WRONG)).statusCode).toBe(401);
  }

  it('locks an account after five consecutive failures: even the right password then gets 429 with Retry-After', async () => {
    const { username } = await signUp(t.app);
    await failTimes(username, 5);
    const locked = await attempt(username, PASSWORD);
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toEqual({ error: 'too_many_attempts', message: expect.stringMatching(/locked/) });
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(55);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(60);
    t.clock.advance(61_000);
    expect((await attempt(username, PASSWORD)).statusCode).toBe(200);
  });

  it('doubles the lock on every further failure, up to 15 minutes', async () => {
    const { username } = await signUp(t.app);
    await failTimes(username, 5);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const retryAfter = Number((await attempt(username, PASSWORD)).headers['retry-after']);
      seen.push(retryAfter);
      t.clock.advance(retryAfter * 1000 + 1000);
      expect((await attempt(username, WRONG)).statusCode).toBe(401);
    }
    expect(seen).toEqual([60, 120, 240, 480, 900, 900]);
  });

  it('resets the count after a successful login', async () => {
    const { username } = await signUp(t.app);
    await failTimes(username, 4);
    expect((await attempt(username, PASSWORD)).statusCode).toBe(200);
    await failTimes(username, 4);
    expect((await attempt(username, PASSWORD)).statusCode).toBe(200);
  });

  it('never lets locking one account affect another', async () => {
    const victim = await signUp(t.app);
    const bystander = await signUp(t.app);
    await failTimes(victim.username, 5);
    expect((await attempt(victim.username, PASSWORD)).statusCode).toBe(429);
    expect((await attempt(bystander.username, PASSWORD)).statusCode).toBe(200);
  });

  it('lets a concurrent burst of twenty wrong passwords check at most five', async () => {
    const { username } = await signUp(t.app);
    const results = await Promise.all(Array.from({ length: 20 }, () => attempt(username, WRONG)));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect((await attempt(username, PASSWORD)).statusCode).toBe(429);
  });

  it('counts wrong second-factor codes too: no more than five are tried before the account locks', async () => {
    const session = await signUp(t.app);
    const { secret } = await enableTOTP(t, session);
    let wrongCodes = 0;
    let lockedAt = -1;
    for (let i = 0; i < 12 && lockedAt < 0; i++) {
      const challenge = await attempt(session.username, PASSWORD);
      if (challenge.statusCode === 429) {
        lockedAt = i;
        break;
      }
      const second = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/login',
        payload: { mfa_token: challenge.json().mfa_token, code: otherCode(totpNow(t, secret)) },
      });
      if (second.statusCode === 429) lockedAt = i;
      else if (second.statusCode === 401 && second.json().error === 'invalid_mfa_code') wrongCodes++;
    }
    expect(lockedAt).toBeGreaterThanOrEqual(0);
    expect(wrongCodes).toBeLessThanOrEqual(5);
    const types = (
      await t.database.handle.db
        .selectFrom('audit_events')
        .select('type')
        .where('user_id', '=', session.userId)
        .execute()
    ).map((r) => r.type);
    expect(types).toContain('account.locked');
  });

  it('counts wrong current passwords on a password change, so a stolen access token cannot guess the password', async () => {
    const session = await signUp(t.app);
    const change = (current: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/auth/password/change',
        headers: session.auth,
        payload: { current_password: current, new_password: 'another fine passphrase' },
      });
    for (let i = 0; i < 5; i++) expect((await change(WRONG)).statusCode).toBe(401);
    expect((await change(PASSWORD)).statusCode).toBe(429);
    expect((await attempt(session.username, PASSWORD)).statusCode).toBe(429);
  });

  it('counts wrong codes when disabling two-factor authentication', async () => {
    const session = await signUp(t.app);
    const { secret } = await enableTOTP(t, session);
    const disable = (code: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/disable',
        headers: session.auth,
        payload: { password: PASSWORD, code },
      });
    for (let i = 0; i < 5; i++) expect((await disable(otherCode(totpNow(t, secret)))).statusCode).toBe(401);
    expect((await disable(totpNow(t, secret))).statusCode).toBe(429);
  });

  it('audits the lock, and a locked attempt, with the reason', async () => {
    const { username, userId } = await signUp(t.app).then(async (s) => ({
      ...s,
      userId: (await login(t.app, s.username)).userId,
    }));
    await failTimes(username, 5);
    await attempt(username, PASSWORD);
    const rows = await t.database.handle.db
      .selectFrom('audit_events')
      .select(['type', 'detail'])
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.type)).toEqual(expect.arrayContaining(['login.failed', 'account.locked']));
    expect(rows.map((r) => JSON.parse(r.detail).reason)).toEqual(expect.arrayContaining(['wrong_password', 'locked']));
    for (const row of rows) expect(row.detail).not.toContain(PASSWORD);
  });
});

describe('lockout settings', () => {
  it('follows LOCKOUT_THRESHOLD, LOCKOUT_BASE_DELAY and LOCKOUT_MAX_DELAY', async () => {
    const t = await buildTestApp({
      env: { LOCKOUT_THRESHOLD: '3', LOCKOUT_BASE_DELAY: '10', LOCKOUT_MAX_DELAY: '30' },
    });
    try {
      const { username } = await signUp(t.app);
      const attempt = (password: string) =>
        t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
      for (let i = 0; i < 3; i++) expect((await attempt(WRONG)).statusCode).toBe(401);
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) {
        const retryAfter = Number((await attempt(PASSWORD)).headers['retry-after']);
        seen.push(retryAfter);
        t.clock.advance(retryAfter * 1000 + 1000);
        await attempt(WRONG);
      }
      expect(seen).toEqual([10, 20, 30]);
    } finally {
      await t.close();
    }
  });
});

/** The device cookie a sign-in answer set, ready for a `cookie` request header. */
function deviceCookieOf(response: LightMyRequestResponse): { name: string; value: string; header: string } {
  const cookie = response.cookies.find((c) => c.name.startsWith(DEVICE_COOKIE_PREFIX));
  if (!cookie) throw new Error(`no device cookie in: ${JSON.stringify(response.headers['set-cookie'])}`);
  return { name: cookie.name, value: cookie.value, header: `${cookie.name}=${cookie.value}` };
}

describe.each(dialects)('device cookies, unknown names and lifting locks on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ t, mailbox, close } = await startMailApp({ dialect }));
  });
  afterAll(async () => close?.());

  const db = () => t.database.handle.db;
  /** A sign-in attempt; `cookie` is the client's cookie header (a browser sends every device cookie it holds). */
  const attempt = (username: string, password: string, cookie?: string, url = '/api/auth/login') =>
    t.app.inject({ method: 'POST', url, payload: { username, password }, headers: cookie ? { cookie } : {} });

  async function failTimes(username: string, times: number, cookie?: string): Promise<void> {
    for (let i = 0; i < times; i++) expect((await attempt(username, WRONG, cookie)).statusCode).toBe(401);
  }

  /** A new account and the device cookie its owner's client got from signing in. */
  async function ownerWithDevice(): Promise<{
    username: string;
    userId: number;
    device: ReturnType<typeof deviceCookieOf>;
  }> {
    const { username, userId } = await signUp(t.app);
    return { username, userId, device: deviceCookieOf(await attempt(username, PASSWORD)) };
  }

  async function signUpAdmin(): Promise<{ authorization: string }> {
    const created = await signUp(t.app, uniqueName('admin'));
    await db().updateTable('users').set({ role: 'admin' }).where('id', '=', created.userId).execute();
    return (await login(t.app, created.username)).auth;
  }

  it('gives a client that signed in a signed HttpOnly, Secure, SameSite=Strict device cookie for the whole site, for a year', async () => {
    const { username } = await signUp(t.app);
    const response = await attempt(username, PASSWORD);
    const cookie = response.cookies.find((c) => c.name.startsWith(DEVICE_COOKIE_PREFIX));
    expect(cookie).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: 365 * 24 * 3600,
    });
    // No failed sign-in and no 2FA challenge hands one out.
    expect((await attempt(username, WRONG)).cookies.filter((c) => c.name.startsWith(DEVICE_COOKIE_PREFIX))).toEqual([]);
  });

  it("a stranger's failures never lock out a client holding a device cookie for the account", async () => {
    const owner = await ownerWithDevice();
    await failTimes(owner.username, 5);
    for (let i = 0; i < 5; i++) expect((await attempt(owner.username, WRONG)).statusCode).toBe(429);
    // Strangers, even with the right password, are locked out; the owner's client is not.
    expect((await attempt(owner.username, PASSWORD)).statusCode).toBe(429);
    const signedIn = await attempt(owner.username, PASSWORD, owner.device.header);
    expect(signedIn.statusCode).toBe(200);
    // Its success does not refill the strangers' budget.
    expect((await attempt(owner.username, PASSWORD)).statusCode).toBe(429);
    // The compatibility path receives the cookie too (Path=/).
    expect((await attempt(owner.username, PASSWORD, deviceCookieOf(signedIn).header, '/login')).statusCode).toBe(200);
  });

  it('keeps one device cookie per account, so one browser stays trusted for several accounts', async () => {
    const first = await ownerWithDevice();
    const second = await ownerWithDevice();
    expect(first.device.name).not.toBe(second.device.name);
    const jar = `${first.device.header}; ${second.device.header}`;
    await failTimes(first.username, 5);
    await failTimes(second.username, 5);
    expect((await attempt(first.username, PASSWORD, jar)).statusCode).toBe(200);
    expect((await attempt(second.username, PASSWORD, jar)).statusCode).toBe(200);
  });

  it("the device cookie's own budget locks only that cookie", async () => {
    const owner = await ownerWithDevice();
    const otherDevice = deviceCookieOf(await attempt(owner.username, PASSWORD));
    await failTimes(owner.username, 5, owner.device.header);
    const locked = await attempt(owner.username, PASSWORD, owner.device.header);
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toEqual({ error: 'too_many_attempts', message: expect.stringMatching(/locked/) });
    expect(Number(locked.headers['retry-after'])).toBe(60);
    // Neither another device of the owner nor a client without a cookie is affected.
    expect((await attempt(owner.username, PASSWORD, otherDevice.header)).statusCode).toBe(200);
    expect((await attempt(owner.username, PASSWORD)).statusCode).toBe(200);
    const types = (await auditRows(t, owner.userId)).map((r) => r.type);
    expect(types).toContain('device.locked');
    expect(types).not.toContain('account.locked');
    // The device lock ends like any other, then doubles on the next failure.
    t.clock.advance(61_000);
    expect((await attempt(owner.username, WRONG, owner.device.header)).statusCode).toBe(401);
    expect(Number((await attempt(owner.username, PASSWORD, owner.device.header)).headers['retry-after'])).toBe(120);
  });

  it("a forged, tampered, expired or other account's device cookie counts as no cookie", async () => {
    const owner = await ownerWithDevice();
    const other = await ownerWithDevice();
    const [id, issued, nonce, signature] = owner.device.value.split('.') as [string, string, string, string];
    const flip = (s: string): string => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');
    const now = t.clock.now().getTime();
    const forger = createDeviceCookies(deriveKey(Buffer.alloc(32, 9), 'device-cookie'));
    const yearAgo = now - 366 * 24 * 3600 * 1000;
    const real = createDeviceCookies(deriveKey(Buffer.from(TEST_SECRETS.ENCRYPTION_KEY, 'base64'), 'device-cookie'));
    const impostors = [
      `${owner.device.name}=${forger.issue(owner.userId, now).value}`, // signed with another key
      `${owner.device.name}=${id}.${issued}.${nonce}.${flip(signature)}`, // signature changed
      `${owner.device.name}=${id}.${issued}.${flip(nonce)}.${signature}`, // nonce changed
      `${owner.device.name}=${other.userId}.${issued}.${nonce}.${signature}`, // account changed
      `${owner.device.name}=${other.device.value}`, // another account's genuine cookie
      other.device.header, // another account's cookie under its own name
      `${owner.device.name}=${real.issue(owner.userId, yearAgo).value}`, // genuine but older than a year
      `${owner.device.name}=garbage`,
    ];
    // Each impostor's failure spends the untrusted clients' budget: five lock them all out.
    for (const cookie of impostors.slice(0, 5))
      expect((await attempt(owner.username, WRONG, cookie)).statusCode).toBe(401);
    for (const cookie of impostors)
      expect((await attempt(owner.username, PASSWORD, cookie)).statusCode, cookie).toBe(429);
    expect((await attempt(owner.username, PASSWORD)).statusCode).toBe(429);
    expect((await attempt(owner.username, PASSWORD, owner.device.header)).statusCode).toBe(200);
  });

  it('unknown and known accounts answer the same 429 with the same Retry-After after the same failures', async () => {
    const known = await signUp(t.app);
    const ghost = uniqueName('ghost');
    const ghostEmail = `${uniqueName('nobody')}@example.com`;
    const sequences: string[][] = [];
    const start = t.clock.now();
    for (const name of [known.username, ghost, ghostEmail]) {
      // Each name starts at the same moment, so each gets the same clock offsets.
      t.clock.set(start);
      const seen: string[] = [];
      const record = (r: LightMyRequestResponse): void =>
        void seen.push(`${r.statusCode} ${r.headers['retry-after'] ?? '-'} ${r.body}`);
      for (let i = 0; i < 5; i++) record(await attempt(name, WRONG));
      for (let round = 0; round < 3; round++) {
        const locked = await attempt(name, PASSWORD);
        record(locked);
        t.clock.advance(Number(locked.headers['retry-after'] ?? 0) * 1000);
        record(await attempt(name, WRONG));
      }
      sequences.push(seen);
    }
    expect(sequences[0]).toContain(
      `429 60 ${JSON.stringify({ error: 'too_many_attempts', message: 'Too many failed attempts: this account is locked; try again in 60 seconds.' })}`,
    );
    expect(sequences[1]).toEqual(sequences[0]);
    expect(sequences[2]).toEqual(sequences[0]);
  });

  it('every spelling of a name shares one budget: an account by username and by email, an unknown name in any case', async () => {
    const created = await register(t.app, uniqueName('both'), PASSWORD, `${uniqueName('mail')}@example.com`);
    const { username, email } = created.json() as { username: string; email: string };
    await failTimes(username, 2);
    await failTimes(email.toUpperCase(), 2);
    await failTimes(username.toUpperCase(), 1);
    expect((await attempt(email, PASSWORD)).statusCode).toBe(429);
    const ghost = uniqueName('ghost');
    await failTimes(ghost, 3);
    await failTimes(ghost.toUpperCase(), 2);
    expect((await attempt(ghost.toLowerCase(), WRONG)).statusCode).toBe(429);
  });

  it('a burst of parallel wrong guesses gets no more than the budget: for an unknown name and for a device cookie', async () => {
    const ghost = uniqueName('ghost');
    const owner = await ownerWithDevice();
    for (const [name, cookie] of [
      [ghost, undefined],
      [owner.username, owner.device.header],
    ] as const) {
      const statuses = (await Promise.all(Array.from({ length: 20 }, () => attempt(name, WRONG, cookie)))).map(
        (r) => r.statusCode,
      );
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    }
    expect((await attempt(owner.username, PASSWORD, owner.device.header)).statusCode).toBe(429);
    expect((await attempt(owner.username, PASSWORD)).statusCode).toBe(200);
  });

  it('never stores an unknown name, and forgets it (row deleted) a day after its last failure, like a known account', async () => {
    const known = await signUp(t.app);
    const ghost = uniqueName('ghost');
    await failTimes(ghost, 4);
    await failTimes(known.username, 4);
    const rows = await db().selectFrom('login_lockouts').selectAll().execute();
    expect(JSON.stringify(rows).toLowerCase()).not.toContain(ghost.toLowerCase());
    t.clock.advance(24 * 3600 * 1000 + 1000);
    const now = t.clock.now().getTime();
    const beforeSweep = await db().selectFrom('login_lockouts').selectAll().execute();
    const live = beforeSweep.filter((r) => Number(r.failures_expire_at) > now);
    expect(live.length).toBeLessThan(beforeSweep.length);
    // The next failure of any unknown name sweeps expired rows: the live ones and its own are left.
    await failTimes(uniqueName('other'), 1);
    const afterSweep = await db().selectFrom('login_lockouts').selectAll().execute();
    expect(afterSweep).toHaveLength(live.length + 1);
    expect(afterSweep.filter((r) => Number(r.failures_expire_at) <= now)).toEqual([]);
    // Both start again from zero: four more failures lock neither.
    await failTimes(ghost, 4);
    await failTimes(known.username, 4);
    expect((await attempt(known.username, PASSWORD)).statusCode).toBe(200);
  });

  it('the second step honours the device cookie: a stranger locks out only clients without it, wrong codes spend the device budget', async () => {
    const session = await signUp(t.app);
    const { secret } = await enableTOTP(t, session);
    const challengeWith = async (cookie?: string): Promise<string> => {
      const response = await attempt(session.username, PASSWORD, cookie);
      expect(response.json()).toMatchObject({ mfa_required: true });
      return response.json().mfa_token as string;
    };
    const second = (mfaToken: string, code: string, cookie?: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/login',
        payload: { mfa_token: mfaToken, code },
        headers: cookie ? { cookie } : {},
      });

    // Only the finished second step makes the client trusted.
    const challenged = await attempt(session.username, PASSWORD);
    expect(challenged.cookies.filter((c) => c.name.startsWith(DEVICE_COOKIE_PREFIX))).toEqual([]);
    const first = await second(challenged.json().mfa_token, totpNow(t, secret));
    expect(first.statusCode).toBe(200);
    const device = deviceCookieOf(first);
    nextStep(t);

    // A stranger who knows the password guesses codes until clients without the cookie are locked out.
    for (let i = 0; i < 5; i++)
      expect((await second(await challengeWith(), otherCode(totpNow(t, secret)))).statusCode).toBe(401);
    expect((await attempt(session.username, PASSWORD)).statusCode).toBe(429);
    // The owner's client still gets through both steps.
    const owner = await second(await challengeWith(device.header), totpNow(t, secret), device.header);
    expect(owner.statusCode).toBe(200);
    nextStep(t);

    // Wrong codes from the owner's client spend its own budget, not the strangers' (already spent).
    const trusted = deviceCookieOf(owner).header;
    for (let i = 0; i < 5; i++)
      expect((await second(await challengeWith(trusted), otherCode(totpNow(t, secret)), trusted)).statusCode).toBe(401);
    expect((await attempt(session.username, PASSWORD, trusted)).statusCode).toBe(429);
  });

  it('a password change, backup-code regeneration and 2FA disable with the device cookie are not blocked by strangers; without it they are', async () => {
    const owner = await ownerWithDevice();
    const session = await login(t.app, owner.username);
    const { secret } = await enableTOTP(t, session);
    await failTimes(owner.username, 5);
    const call = (url: string, payload: object, cookie?: string) =>
      t.app.inject({ method: 'POST', url, headers: { ...session.auth, ...(cookie ? { cookie } : {}) }, payload });
    const regenerate = (cookie?: string) => call('/api/auth/2fa/backup-codes', { password: PASSWORD }, cookie);
    const disable = (cookie?: string) =>
      call('/api/auth/2fa/disable', { password: PASSWORD, code: totpNow(t, secret) }, cookie);
    const change = (cookie?: string) =>
      call(
        '/api/auth/password/change',
        { current_password: PASSWORD, new_password: 'another fine passphrase' },
        cookie,
      );
    expect((await regenerate()).statusCode).toBe(429);
    expect((await regenerate(owner.device.header)).statusCode).toBe(200);
    expect((await disable()).statusCode).toBe(429);
    expect((await disable(owner.device.header)).statusCode).toBe(200);
    expect((await change()).statusCode).toBe(429);
    expect((await change(owner.device.header)).statusCode).toBe(204);
  });

  it("a device cookie does not get round an administrator's lock", async () => {
    const adminAuth = await signUpAdmin();
    const owner = await ownerWithDevice();
    expect(
      (
        await t.app.inject({
          method: 'PATCH',
          url: `/api/admin/users/${owner.userId}`,
          headers: adminAuth,
          payload: { locked: true },
        })
      ).statusCode,
    ).toBe(200);
    const refused = await attempt(owner.username, PASSWORD, owner.device.header);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('forbidden');
  });

  /** Locks the account for strangers and the owner's device cookie, and returns what each client holds. */
  async function lockEverything(): Promise<{ username: string; userId: number; email: string; device: string }> {
    const email = `${uniqueName('locked')}@example.com`;
    const created = await register(t.app, uniqueName('locked'), PASSWORD, email);
    const { username, id: userId } = created.json() as { username: string; id: number };
    const device = deviceCookieOf(await attempt(username, PASSWORD)).header;
    await failTimes(username, 5);
    await failTimes(username, 5, device);
    expect((await attempt(username, PASSWORD)).statusCode).toBe(429);
    expect((await attempt(username, PASSWORD, device)).statusCode).toBe(429);
    return { username, userId, email, device };
  }

  it('a completed password reset lifts every lock', async () => {
    const locked = await lockEverything();
    const token = await resetToken(t, mailbox, locked.email);
    expect((await resetPassword(t, token)).statusCode).toBe(204);
    expect((await attempt(locked.username, NEW_PASSWORD)).statusCode).toBe(200);
    expect((await attempt(locked.username, NEW_PASSWORD, locked.device)).statusCode).toBe(200);
  });

  it("a completed password reset leaves an administrator's lock in place", async () => {
    const adminAuth = await signUpAdmin();
    const locked = await lockEverything();
    expect(
      (
        await t.app.inject({
          method: 'PATCH',
          url: `/api/admin/users/${locked.userId}`,
          headers: adminAuth,
          payload: { locked: true },
        })
      ).statusCode,
    ).toBe(200);
    const token = await resetToken(t, mailbox, locked.email);
    expect((await resetPassword(t, token)).statusCode).toBe(204);
    expect((await attempt(locked.username, NEW_PASSWORD)).statusCode).toBe(403);
    expect((await attempt(locked.username, NEW_PASSWORD, locked.device)).statusCode).toBe(403);
  });

  it('an admin unlock lifts every lock', async () => {
    const adminAuth = await signUpAdmin();
    const locked = await lockEverything();
    expect(
      (
        await t.app.inject({
          method: 'PATCH',
          url: `/api/admin/users/${locked.userId}`,
          headers: adminAuth,
          payload: { locked: false },
        })
      ).statusCode,
    ).toBe(200);
    expect((await attempt(locked.username, PASSWORD)).statusCode).toBe(200);
    expect((await attempt(locked.username, PASSWORD, locked.device)).statusCode).toBe(200);
  });
});
