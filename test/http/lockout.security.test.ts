import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, login, signUp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { enableTOTP, otherCode, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();
const WRONG = 'definitely not the password';

describe.each(dialects)('per-account brute-force lockout on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  const attempt = (username: string, password: string) => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });

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
      const second = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/login', payload: { mfa_token: challenge.json().mfa_token, code: otherCode(totpNow(t, secret)) } });
      if (second.statusCode === 429) lockedAt = i;
      else if (second.statusCode === 401 && second.json().error === 'invalid_mfa_code') wrongCodes++;
    }
    expect(lockedAt).toBeGreaterThanOrEqual(0);
    expect(wrongCodes).toBeLessThanOrEqual(5);
    const types = (await t.database.handle.db.selectFrom('audit_events').select('type').where('user_id', '=', session.userId).execute()).map((r) => r.type);
    expect(types).toContain('account.locked');
  });

  it('counts wrong current passwords on a password change, so a stolen access token cannot guess the password', async () => {
    const session = await signUp(t.app);
    const change = (current: string) =>
      t.app.inject({ method: 'POST', url: '/api/auth/password/change', headers: session.auth, payload: { current_password: current, new_password: 'another fine passphrase' } });
    for (let i = 0; i < 5; i++) expect((await change(WRONG)).statusCode).toBe(401);
    expect((await change(PASSWORD)).statusCode).toBe(429);
    expect((await attempt(session.username, PASSWORD)).statusCode).toBe(429);
  });

  it('counts wrong codes when disabling two-factor authentication', async () => {
    const session = await signUp(t.app);
    const { secret } = await enableTOTP(t, session);
    const disable = (code: string) => t.app.inject({ method: 'POST', url: '/api/auth/2fa/disable', headers: session.auth, payload: { password: PASSWORD, code } });
    for (let i = 0; i < 5; i++) expect((await disable(otherCode(totpNow(t, secret)))).statusCode).toBe(401);
    expect((await disable(totpNow(t, secret))).statusCode).toBe(429);
  });

  it('audits the lock, and a locked attempt, with the reason', async () => {
    const { username, userId } = await signUp(t.app).then(async (s) => ({ ...s, userId: (await login(t.app, s.username)).userId }));
    await failTimes(username, 5);
    await attempt(username, PASSWORD);
    const rows = await t.database.handle.db.selectFrom('audit_events').select(['type', 'detail']).where('user_id', '=', userId).orderBy('id').execute();
    expect(rows.map((r) => r.type)).toEqual(expect.arrayContaining(['login.failed', 'account.locked']));
    expect(rows.map((r) => JSON.parse(r.detail).reason)).toEqual(expect.arrayContaining(['wrong_password', 'locked']));
    for (const row of rows) expect(row.detail).not.toContain(PASSWORD);
  });
});

describe('lockout settings', () => {
  it('follows LOCKOUT_THRESHOLD, LOCKOUT_BASE_DELAY and LOCKOUT_MAX_DELAY', async () => {
    const t = await buildTestApp({ env: { LOCKOUT_THRESHOLD: '3', LOCKOUT_BASE_DELAY: '10', LOCKOUT_MAX_DELAY: '30' } });
    try {
      const { username } = await signUp(t.app);
      const attempt = (password: string) => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
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
