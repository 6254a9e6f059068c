import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_LOCK_UNTIL_MS } from '../../src/modules/accounts/lock-columns.js';
import { DEVICE_COOKIE_PREFIX } from '../../src/modules/lockout/device-cookie.js';
import { PASSWORD, buildTestApp, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { auditRows } from '../support/two-factor.js';

const dialects = await testDialects();
const WRONG = 'definitely not the password';
const UA = 'lockout-audit-test/1.0';

/**
 * What the lockout writes to the audit trail, exactly (OWASP Logging Cheat Sheet: authentication
 * failures and lockouts are logged with who and from where): one `account.locked` or
 * `device.locked` when a failure sets a lock and none before, and every refused attempt as
 * `login.failed` with its reason, the client's address and user agent. Also: a finished sign-in
 * with a device cookie gives that cookie its budget back.
 */
describe.each(dialects)('lockout audit trail on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  const attempt = (username: string, password: string, cookie?: string): Promise<LightMyRequestResponse> =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password },
      headers: { 'user-agent': UA, ...(cookie ? { cookie } : {}) },
    });

  async function failTimes(username: string, times: number, cookie?: string): Promise<void> {
    for (let i = 0; i < times; i++) expect((await attempt(username, WRONG, cookie)).statusCode).toBe(401);
  }

  function deviceCookie(response: LightMyRequestResponse): string {
    const cookie = response.cookies.find((c) => c.name.startsWith(DEVICE_COOKIE_PREFIX));
    if (!cookie) throw new Error('no device cookie');
    return `${cookie.name}=${cookie.value}`;
  }

  const reasons = (rows: Array<{ type: string; detail: string }>): string[] =>
    rows.filter((r) => r.type === 'login.failed').map((r) => (JSON.parse(r.detail) as { reason: string }).reason);

  it('records the lock once, when the failure that sets it happens, and each locked attempt with who and from where', async () => {
    const { username, userId } = await signUp(t.app);
    await failTimes(username, 4);
    expect((await auditRows(t, userId)).map((r) => r.type)).not.toContain('account.locked');
    await failTimes(username, 1);
    const locks = (await auditRows(t, userId)).filter((r) => r.type === 'account.locked');
    expect(locks).toHaveLength(1);
    expect(JSON.parse(locks[0]!.detail)).toEqual({ failed_attempts: 5, seconds: 60 });
    expect(locks[0]).toMatchObject({ user_id: userId, ip: '127.0.0.1', user_agent: UA });

    expect((await attempt(username, PASSWORD)).statusCode).toBe(429);
    const rows = await auditRows(t, userId);
    expect(reasons(rows).at(-1)).toBe('locked');
    expect(rows.at(-1)).toMatchObject({ type: 'login.failed', user_id: userId, ip: '127.0.0.1', user_agent: UA });
    expect(rows.filter((r) => r.type === 'account.locked')).toHaveLength(1);
  });

  it("records a device cookie's lock as device.locked and its locked attempts as device_locked", async () => {
    const { username, userId } = await signUp(t.app);
    const device = deviceCookie(await attempt(username, PASSWORD));
    await failTimes(username, 5, device);
    expect((await attempt(username, PASSWORD, device)).statusCode).toBe(429);
    const rows = await auditRows(t, userId);
    const locks = rows.filter((r) => r.type === 'device.locked');
    expect(locks).toHaveLength(1);
    expect(JSON.parse(locks[0]!.detail)).toEqual({ failed_attempts: 5, seconds: 60 });
    expect(reasons(rows).at(-1)).toBe('device_locked');
  });

  it('a sign-in with a device cookie gives that cookie its whole budget back', async () => {
    const { username } = await signUp(t.app);
    const device = deviceCookie(await attempt(username, PASSWORD));
    await failTimes(username, 4, device);
    expect((await attempt(username, PASSWORD, device)).statusCode).toBe(200);
    await failTimes(username, 4, device);
    expect((await attempt(username, PASSWORD, device)).statusCode).toBe(200);
  });

  it('an unknown name locks like an account but writes no lock event for anyone', async () => {
    const name = uniqueName('ghost');
    for (let i = 0; i < 5; i++) expect((await attempt(name, WRONG)).statusCode).toBe(401);
    expect((await attempt(name, WRONG)).statusCode).toBe(429);
    const locks = await t.database.handle.db
      .selectFrom('audit_events')
      .select(['type', 'user_id'])
      .where('type', 'in', ['account.locked', 'device.locked'])
      .where('user_id', 'is', null)
      .execute();
    expect(locks).toEqual([]);
  });

  it('gives every unknown name a budget of its own: locking one leaves another unknown name at 401', async () => {
    const first = uniqueName('ghost');
    for (let i = 0; i < 5; i++) expect((await attempt(first, WRONG)).statusCode).toBe(401);
    expect((await attempt(first.toUpperCase(), WRONG)).statusCode).toBe(429);
    expect((await attempt(uniqueName('ghost'), WRONG)).statusCode).toBe(401);
    expect((await attempt(`${uniqueName('ghost')}@example.com`, WRONG)).statusCode).toBe(401);
  });

  it('refuses a device cookie of an account an administrator locked, with the reason locked_by_admin', async () => {
    const { username, userId } = await signUp(t.app);
    const device = deviceCookie(await attempt(username, PASSWORD));
    await t.database.handle.db
      .updateTable('users')
      .set({ locked_until: ADMIN_LOCK_UNTIL_MS })
      .where('id', '=', userId)
      .execute();
    const refused = await attempt(username, PASSWORD, device);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({
      error: 'forbidden',
      message: 'This account has been locked by an administrator.',
    });
    const rows = await auditRows(t, userId);
    expect(reasons(rows).at(-1)).toBe('locked_by_admin');
    expect(rows.at(-1)).toMatchObject({ ip: '127.0.0.1', user_agent: UA });
  });
});
