import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';

const dialects = await testDialects();
const WRONG = 'definitely not the password';

/**
 * Which budget a login identifier spends. Every spelling of one name shares a budget (so changing
 * the case buys no extra guesses), and different names never share one (so guessing at one name
 * never locks out another) — OWASP Authentication Cheat Sheet, "Account Lockout".
 */
describe.each(dialects)('lockout budgets by name on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  const attempt = (username: string, password = WRONG) =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });

  async function failTimes(username: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) expect((await attempt(username)).statusCode).toBe(401);
  }

  it('an unknown email address spends one budget in any case, and another unknown address its own', async () => {
    const ghost = `${uniqueName('ghost')}@example.com`;
    await failTimes(ghost, 3);
    await failTimes(ghost.toUpperCase(), 2);
    expect((await attempt(ghost)).statusCode).toBe(429);
    expect((await attempt(`${uniqueName('other')}@example.com`)).statusCode).toBe(401);
  });

  it('unknown usernames, and unknown addresses written with compatibility characters, each have a budget of their own', async () => {
    // U+FF47 FULLWIDTH LATIN SMALL LETTER G: NFKC folds it to "g", so these name no account.
    const compat = () => `\uff47${uniqueName('host')}@example.com`;
    for (const [locked, other] of [
      [uniqueName('ghost'), uniqueName('ghost')],
      [compat(), compat()],
    ] as const) {
      await failTimes(locked, 5);
      expect((await attempt(locked)).statusCode).toBe(429);
      expect((await attempt(other)).statusCode, other).toBe(401);
    }
  });

  it('a guarded check that fails for another reason than a wrong secret spends no attempt', async () => {
    // Disabling two-factor authentication when it is off: the right password, then 409 mfa_not_enabled.
    const session = await signUp(t.app);
    for (let i = 0; i < 6; i++) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/disable',
        headers: session.auth,
        payload: { password: PASSWORD, code: '123456' },
      });
      expect(response.json()).toMatchObject({ error: 'mfa_not_enabled' });
    }
    await failTimes(session.username, 4);
    expect((await attempt(session.username, PASSWORD)).statusCode).toBe(200);
  });
});
