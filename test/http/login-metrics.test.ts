import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, login, signUp, type TestApp } from '../support/app.js';
import { challenge, enableTOTP, otherCode, passwordLogin, secondStep, totpNow } from '../support/two-factor.js';

/**
 * `twofold_logins_total{outcome}` tells an operator how sign-ins end (docs/operations.md, metrics):
 * every outcome of the flow is counted once, under its own label, so a wave of locked accounts or
 * wrong codes shows up (OWASP Logging Cheat Sheet: authentication failures and lockouts are events
 * to monitor). Only what the flow itself counts is checked here; GET /metrics is in ops.test.ts.
 */
describe('login metrics by outcome (sqlite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t?.close());

  async function counts(): Promise<Record<string, number>> {
    const body = (await t.app.inject({ url: '/metrics' })).body;
    const result: Record<string, number> = {};
    for (const [, outcome, value] of body.matchAll(/^twofold_logins_total\{outcome="(\w+)"\} (\S+)$/gm))
      result[outcome!] = Number(value);
    return result;
  }

  /** How much each outcome's count grew while `run` ran (outcomes that did not move are left out). */
  async function deltas(run: () => Promise<void>): Promise<Record<string, number>> {
    const before = await counts();
    await run();
    const after = await counts();
    return Object.fromEntries(
      Object.entries(after)
        .map(([outcome, value]) => [outcome, value - (before[outcome] ?? 0)] as const)
        .filter(([, delta]) => delta !== 0),
    );
  }

  it('counts a wrong password, a second-factor challenge, a wrong code and the success that follows', async () => {
    const session = await signUp(t.app);
    const { secret } = await enableTOTP(t, session);
    const seen = await deltas(async () => {
      expect((await passwordLogin(t, session.username, { password: 'definitely not it' })).statusCode).toBe(401);
      const mfaToken = await challenge(t, session.username);
      expect((await secondStep(t, mfaToken, otherCode(totpNow(t, secret)))).statusCode).toBe(401);
      expect((await secondStep(t, mfaToken, totpNow(t, secret))).statusCode).toBe(200);
    });
    expect(seen).toEqual({ invalid_credentials: 1, mfa_required: 1, invalid_mfa_code: 1, success: 1 });
  });

  it('counts a wrong code in the one-step TOTP login as invalid_mfa_code', async () => {
    const session = await signUp(t.app);
    const { secret } = await enableTOTP(t, session);
    const seen = await deltas(async () => {
      const response = await passwordLogin(t, session.username, { totp_code: otherCode(totpNow(t, secret)) });
      expect(response.statusCode).toBe(401);
    });
    expect(seen).toEqual({ invalid_mfa_code: 1 });
  });

  it('counts an attempt refused by the lockout as locked, and nothing else', async () => {
    const { username } = await signUp(t.app);
    for (let i = 0; i < 5; i++)
      expect((await passwordLogin(t, username, { password: 'definitely not it' })).statusCode).toBe(401);
    const seen = await deltas(async () => {
      expect((await passwordLogin(t, username)).statusCode).toBe(429);
    });
    expect(seen).toEqual({ locked: 1 });
  });

  it("does not count an administrator's lock as a lockout", async () => {
    const admin = await signUp(t.app);
    await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.userId).execute();
    const adminAuth = (await login(t.app, admin.username)).auth;
    const { username, userId } = await signUp(t.app);
    const locked = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${userId}`,
      headers: adminAuth,
      payload: { locked: true },
    });
    expect(locked.statusCode).toBe(200);
    const seen = await deltas(async () => {
      expect((await passwordLogin(t, username)).statusCode).toBe(403);
    });
    expect(seen.locked).toBeUndefined();
  });
});
