import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, register, login, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { auditRows, claimsOf, enableEmailCodes, enableTOTP, nextStep, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();

let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => mailbox?.close());

/**
 * What re-authentication answers and writes to the audit trail, field by field (OWASP Logging
 * Cheat Sheet: record authentication successes and failures with why), and the Bearer request for
 * an emailed step-up code.
 */
describe.each(dialects)('re-authentication and its audit trail on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { SMTP_URL: mailbox.url } });
  });
  afterAll(async () => t?.close());

  const reauth = (accessToken: string, payload: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/reauth',
      headers: { authorization: `Bearer ${accessToken}` },
      payload,
    });
  const details = async (userId: number, type: string): Promise<unknown[]> =>
    (await auditRows(t, userId)).filter((row) => row.type === type).map((row) => JSON.parse(row.detail) as unknown);

  it('without 2FA: a wrong password is audited as such, the right one signs in again with amr pwd', async () => {
    const session = await signUp(t.app);
    const sid = (await claimsOf(t, session.accessToken)).sid;

    const wrong = await reauth(session.accessToken, { password: 'not the password at all' });
    expect(wrong.statusCode).toBe(401);
    expect(await details(session.userId, 'reauth.failed')).toEqual([{ reason: 'password' }]);

    const right = await reauth(session.accessToken, { password: PASSWORD });
    expect(right.statusCode).toBe(200);
    expect((await claimsOf(t, right.json().access_token)).amr).toEqual(['pwd']);
    expect(await details(session.userId, 'reauth.succeeded')).toEqual([{ amr: 'pwd', session_id: sid }]);
  });

  it('without 2FA: a code sent anyway is ignored, not checked against factors the account does not have', async () => {
    const session = await signUp(t.app);
    const response = await reauth(session.accessToken, { password: PASSWORD, code: '123456' });
    expect(response.statusCode).toBe(200);
    expect((await claimsOf(t, response.json().access_token)).amr).toEqual(['pwd']);
  });

  it('with TOTP: a missing code is named, a wrong one audited as "code", the right one gives pwd+otp', async () => {
    const session = await signUp(t.app);
    const { secret } = await enableTOTP(t, session);
    const sid = (await claimsOf(t, session.accessToken)).sid;

    const missing = await reauth(session.accessToken, { password: PASSWORD });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().fields).toEqual({ code: 'is required when two-factor authentication is on' });

    nextStep(t);
    const wrong = await reauth(session.accessToken, { password: PASSWORD, code: '000000' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('invalid_mfa_code');
    expect(await details(session.userId, 'reauth.failed')).toEqual([{ reason: 'code' }]);

    nextStep(t);
    const right = await reauth(session.accessToken, { password: PASSWORD, code: totpNow(t, secret) });
    expect(right.statusCode).toBe(200);
    expect((await claimsOf(t, right.json().access_token)).amr).toEqual(['pwd', 'otp']);
    expect(await details(session.userId, 'reauth.succeeded')).toEqual([
      { amr: 'pwd,otp', session_id: sid, method: 'totp' },
    ]);

    // The session remembers the stronger proof: a refresh keeps both methods (RFC 8176 `amr`).
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: right.json().refresh_token },
    });
    expect(refreshed.statusCode).toBe(200);
    expect((await claimsOf(t, refreshed.json().access_token)).amr).toEqual(['pwd', 'otp']);
  });

  it('a step-up code by email: refused with a reason without email codes, else 202 with its lifetime', async () => {
    const send = (accessToken: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/email/send',
        headers: { authorization: `Bearer ${accessToken}` },
        payload: {},
      });
    const totpOnly = await signUp(t.app);
    await enableTOTP(t, totpOnly);
    const refused = await send(totpOnly.accessToken);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({
      error: 'mfa_not_enabled',
      message: 'Email codes are not turned on for this account.',
    });

    const username = uniqueName('stepup');
    const email = `${username}@example.com`;
    expect((await register(t.app, username, PASSWORD, email)).statusCode).toBe(201);
    const withEmail = await login(t.app, username);
    await enableEmailCodes(t, withEmail, email, mailbox);
    nextStep(t);
    const sent = await send(withEmail.accessToken);
    expect(sent.statusCode).toBe(202);
    expect(sent.json()).toEqual({ sent: true, expires_in: 600 });
  });
});
