import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, register, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import {
  auditRows,
  challenge,
  enableTOTP,
  nextStep,
  otherCode,
  passwordLogin,
  secondStep,
  totpNow,
} from '../support/two-factor.js';

const dialects = await testDialects();

/**
 * What each step of a sign-in writes to the audit trail, and which factor a second step may use:
 * an investigator reads from the trail which factor was tried or used (OWASP Logging Cheat Sheet,
 * authentication events; NIST SP 800-63B §5.2.2 for the limit on failed attempts these events count).
 */
describe.each(dialects)('the audit trail of a sign-in on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  /** The user's audit events after the sign-up, as type and parsed detail. */
  async function eventsSince(userId: number, skip: number): Promise<Array<{ type: string; detail: unknown }>> {
    return (await auditRows(t, userId))
      .slice(skip)
      .map((row) => ({ type: row.type, detail: JSON.parse(row.detail || '{}') as unknown }));
  }

  async function totpUser() {
    const session = await signUp(t.app);
    const { secret, backupCodes } = await enableTOTP(t, session);
    return { ...session, secret, backupCodes, seen: (await auditRows(t, session.userId)).length };
  }

  it('a wrong password is a login.failed with its reason', async () => {
    const session = await signUp(t.app);
    const seen = (await auditRows(t, session.userId)).length;
    expect((await passwordLogin(t, session.username, { password: 'definitely not it' })).statusCode).toBe(401);
    expect(await eventsSince(session.userId, seen)).toEqual([
      { type: 'login.failed', detail: { reason: 'wrong_password' } },
    ]);
  });

  it('the one-step TOTP login takes a code with spaces round it, and records the factor it used', async () => {
    const user = await totpUser();
    const wrong = await passwordLogin(t, user.username, { totp_code: otherCode(totpNow(t, user.secret)) });
    expect(wrong.statusCode).toBe(401);
    const right = await passwordLogin(t, user.username, { totp_code: ` ${totpNow(t, user.secret)} ` });
    expect(right.statusCode).toBe(200);
    expect(await eventsSince(user.userId, user.seen)).toEqual([
      { type: 'mfa.failed', detail: { method: 'totp' } },
      { type: 'mfa.used', detail: { method: 'totp' } },
      { type: 'login.succeeded', detail: { amr: 'pwd,otp', method: 'totp' } },
    ]);
  });

  it('the password step records the challenge and its methods; a wrong code records the method asked for, or "any"', async () => {
    const user = await totpUser();
    const mfaToken = await challenge(t, user.username);
    const wrong = otherCode(totpNow(t, user.secret));
    expect((await secondStep(t, mfaToken, wrong)).statusCode).toBe(401);
    expect((await secondStep(t, mfaToken, wrong, 'totp')).statusCode).toBe(401);
    expect(await eventsSince(user.userId, user.seen)).toEqual([
      { type: 'mfa.challenged', detail: { methods: 'totp' } },
      { type: 'mfa.failed', detail: { method: 'any' } },
      { type: 'mfa.failed', detail: { method: 'totp' } },
    ]);
  });

  it('a code is checked only as the method the second step names: a backup code sent as "totp" is refused and stays unused', async () => {
    const user = await totpUser();
    const mfaToken = await challenge(t, user.username);
    const backupCode = user.backupCodes[0]!;
    expect((await secondStep(t, mfaToken, backupCode, 'totp')).statusCode).toBe(401);
    expect((await secondStep(t, mfaToken, totpNow(t, user.secret), 'backup_code')).statusCode).toBe(401);
    nextStep(t);
    const used = await secondStep(t, mfaToken, backupCode, 'backup_code');
    expect(used.statusCode).toBe(200);
    expect((await eventsSince(user.userId, user.seen)).slice(-2)).toEqual([
      { type: 'mfa.backup_code_used', detail: { method: 'backup_code' } },
      { type: 'login.succeeded', detail: { amr: 'pwd,otp', method: 'backup_code' } },
    ]);
  });
});

describe.each(dialects)('the audit trail of a sign-in before the address is verified on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { REQUIRE_EMAIL: 'true' } });
  });
  afterAll(async () => t?.close());

  it('the right password before verifying is a login.failed with reason email_unverified', async () => {
    const username = uniqueName('unverified');
    const created = await register(t.app, username, PASSWORD, `${username}@example.com`);
    expect(created.statusCode).toBe(201);
    const userId = (created.json() as { id: number }).id;
    expect((await passwordLogin(t, username)).statusCode).toBe(403);
    expect((await auditRows(t, userId)).map((row) => [row.type, JSON.parse(row.detail || '{}')])).toContainEqual([
      'login.failed',
      { reason: 'email_unverified' },
    ]);
  });
});
