import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, signUp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { auditRows, challenge, enableTOTP, nextStep, otherCode, secondStep, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();
const CLIENT = { 'user-agent': 'TwoFactorTest/1.0' };

/**
 * Which factor checks a code, and what a change of factors leaves in the audit trail with who made
 * it (OWASP Logging Cheat Sheet: changes to authentication factors are events to record, with the
 * client). A code names its method: it is checked as that factor only (NIST SP 800-63B §5.1).
 */
describe.each(dialects)('second-factor codes and factor changes on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  const post = (url: string, auth: Record<string, string>, payload: Record<string, unknown> = {}) =>
    t.app.inject({ method: 'POST', url, headers: { ...auth, ...CLIENT }, payload });

  /** The user's audit events from index `skip` on, with detail parsed. */
  async function eventsSince(userId: number, skip: number) {
    return (await auditRows(t, userId)).slice(skip).map((row) => ({
      type: row.type,
      detail: JSON.parse(row.detail || '{}') as unknown,
      ip: row.ip,
      user_agent: row.user_agent,
    }));
  }

  it('a TOTP code sent as "totp" signs in and is recorded as totp; sent as "email" it is refused', async () => {
    const session = await signUp(t.app);
    const { secret } = await enableTOTP(t, session);
    const seen = (await auditRows(t, session.userId)).length;
    const mfaToken = await challenge(t, session.username);
    expect((await secondStep(t, mfaToken, totpNow(t, secret), 'email')).statusCode).toBe(401);
    const used = await secondStep(t, mfaToken, totpNow(t, secret), 'totp');
    expect(used.statusCode).toBe(200);
    expect((await eventsSince(session.userId, seen)).map(({ type, detail }) => ({ type, detail }))).toContainEqual({
      type: 'mfa.used',
      detail: { method: 'totp' },
    });
  });

  it('verify-setup takes a code with spaces round it, and without a setup says where to start', async () => {
    const fresh = await signUp(t.app);
    const early = await post('/api/auth/2fa/verify-setup', fresh.auth, { code: '123456' });
    expect(early.statusCode).toBe(409);
    expect(early.json()).toEqual({ error: 'mfa_not_enabled', message: 'Start with POST /api/auth/2fa/setup.' });
    const { secret } = (await post('/api/auth/2fa/setup', fresh.auth)).json() as { secret: string };
    const verified = await post('/api/auth/2fa/verify-setup', fresh.auth, { code: ` ${totpNow(t, secret)} ` });
    expect(verified.statusCode).toBe(200);
  });

  it('regenerating backup codes and disabling two-factor authentication are audited with the client and the factor', async () => {
    const session = await signUp(t.app);
    const { secret } = await enableTOTP(t, session);
    const seen = (await auditRows(t, session.userId)).length;
    expect((await post('/api/auth/2fa/backup-codes', session.auth, { password: PASSWORD })).statusCode).toBe(200);
    const wrong = await post('/api/auth/2fa/disable', session.auth, {
      password: PASSWORD,
      code: otherCode(totpNow(t, secret)),
    });
    expect(wrong.statusCode).toBe(401);
    nextStep(t);
    const disabled = await post('/api/auth/2fa/disable', session.auth, {
      password: PASSWORD,
      code: totpNow(t, secret),
    });
    expect(disabled.statusCode).toBe(200);
    const client = { ip: '127.0.0.1', user_agent: CLIENT['user-agent'] };
    expect(await eventsSince(session.userId, seen)).toEqual([
      { type: 'mfa.backup_codes_regenerated', detail: {}, ...client },
      { type: 'mfa.failed', detail: { during: 'disable' }, ...client },
      { type: 'mfa.disabled', detail: { confirmed_with: 'totp' }, ...client },
    ]);
  });

  it('an authenticator with no code used yet (as the importer leaves it) refuses a wrong first code', async () => {
    const session = await signUp(t.app);
    const { secret } = await enableTOTP(t, session);
    // The importer writes confirmed factors with last_used_step NULL (import.repository.ts).
    await t.database.handle.db
      .updateTable('totp_factors')
      .set({ last_used_step: null })
      .where('user_id', '=', session.userId)
      .execute();
    const mfaToken = await challenge(t, session.username);
    expect((await secondStep(t, mfaToken, otherCode(totpNow(t, secret)), 'totp')).statusCode).toBe(401);
    expect((await secondStep(t, mfaToken, totpNow(t, secret), 'totp')).statusCode).toBe(200);
  });
  it("a sealed secret copied into another user's row does not open there (bound to its owner by the AEAD's associated data)", async () => {
    const owner = await signUp(t.app);
    const { secret } = await enableTOTP(t, owner);
    const victim = await signUp(t.app);
    await enableTOTP(t, victim);
    const db = t.database.handle.db;
    const copied = await db
      .selectFrom('totp_factors')
      .select('secret_sealed')
      .where('user_id', '=', owner.userId)
      .executeTakeFirstOrThrow();
    // Someone who can write to the table (a restored backup, an SQL injection elsewhere) copies the owner's
    // sealed secret, whose codes they know, into the victim's row (NIST SP 800-38D: the associated data is
    // authenticated, so the ciphertext only opens for the row it was sealed for).
    await db
      .updateTable('totp_factors')
      .set({ secret_sealed: copied.secret_sealed })
      .where('user_id', '=', victim.userId)
      .execute();
    const mfaToken = await challenge(t, victim.username);
    const answer = await secondStep(t, mfaToken, totpNow(t, secret), 'totp');
    // Refused like a wrong code (never a 500), and recorded for the operator.
    expect(answer.statusCode).toBe(401);
    expect(answer.json()).toMatchObject({ error: 'invalid_mfa_code' });
    const events = await auditRows(t, victim.userId);
    expect(events.map((row) => row.type)).toContain('mfa.totp_unreadable');
    // The audit line names the row that did not open, so the operator knows which one to look at.
    const victimRow = await db
      .selectFrom('totp_factors')
      .select('id')
      .where('user_id', '=', victim.userId)
      .executeTakeFirstOrThrow();
    const unreadable = events.find((row) => row.type === 'mfa.totp_unreadable')!;
    expect(JSON.parse(unreadable.detail)).toEqual({ id: Number(victimRow.id) });
  });
});
