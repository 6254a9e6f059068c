import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, login, register, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { codeFrom, startMailbox, type Mailbox, type ReceivedMail } from '../support/mailbox.js';
import {
  auditRows,
  challenge,
  claimsOf,
  enableTOTP,
  otherCode,
  secondStep,
  sendEmailCode,
  totpNow,
} from '../support/two-factor.js';

/**
 * Email codes end to end: the app talks SMTP (SMTP_URL) to a real server started here, and the test reads the code from
 * the message.
 */

const dialects = await testDialects();
const MAIL_FROM = 'Twofold Test <no-reply@twofold.test>';

let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => mailbox?.close());

describe.each(dialects)('email codes through a real SMTP server on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { SMTP_URL: mailbox.url, MAIL_FROM } });
  });
  afterAll(async () => t?.close());

  async function userWithEmail() {
    const username = uniqueName('mail');
    const email = `${username.toLowerCase()}@example.test`;
    expect((await register(t.app, username, PASSWORD, email)).statusCode).toBe(201);
    return { ...(await login(t.app, username)), username, email };
  }

  /** The code message's promises: code in subject and body, text and HTML parts, the expiry, nothing else secret. */
  function expectCodeMessage(mail: ReceivedMail, secrets: string[]): string {
    const code = codeFrom(mail);
    expect(mail.subject).toContain(code);
    expect(mail.from).toBe('no-reply@twofold.test');
    expect(mail.raw).toMatch(/^From: Twofold Test <no-reply@twofold\.test>$/m);
    expect(mail.contentTypes).toEqual(['text/plain', 'text/html']);
    for (const body of [mail.text!, mail.html!]) {
      expect(body).toContain(code);
      expect(body).toMatch(/expires in 10 minutes/);
      // The code is the only number of six or more digits in the message.
      expect(body.match(/\d{6,}/g)).toEqual([code]);
    }
    expect(mail.html).toMatch(/^<p>[\s\S]*<\/p>$/);
    for (const secret of secrets) expect(mail.raw).not.toContain(secret);
    return code;
  }

  it('turns on email codes and signs in with a mailed code (amr pwd,otp)', async () => {
    const a = await userWithEmail();
    const enable = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/enable', headers: a.auth });
    expect(enable.statusCode).toBe(202);
    expect(enable.json()).toEqual({ sent: true, expires_in: 600 });
    expect(mailbox.codeMails(a.email)).toHaveLength(1);
    const setupCode = expectCodeMessage(mailbox.latestCodeMail(a.email), [PASSWORD, a.accessToken, a.refreshToken]);
    expect((await t.app.inject({ url: '/api/auth/2fa', headers: a.auth })).json().email_enabled).toBe(false);

    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/email/verify-setup',
      headers: a.auth,
      payload: { code: otherCode(setupCode) },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('invalid_mfa_code');
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/email/verify-setup',
      headers: a.auth,
      payload: { code: setupCode },
    });
    expect(verified.statusCode).toBe(200);
    expect(verified.json().enabled).toBe(true);
    expect(verified.json().backup_codes).toHaveLength(10);
    expect(await (await t.app.inject({ url: '/api/auth/2fa', headers: a.auth })).json()).toEqual({
      totp_enabled: false,
      email_enabled: true,
      backup_codes_remaining: 10,
      totp_count: 0,
    });
    expect((await t.app.inject({ url: '/api/user/me', headers: a.auth })).json()).toMatchObject({
      mfa_enabled: true,
      mfa_methods: ['email'],
    });

    const first = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: a.username, password: PASSWORD },
    });
    expect(first.json()).toMatchObject({
      mfa_required: true,
      mfa_methods: expect.arrayContaining(['email']),
      expires_in: 300,
    });
    const mfaToken: string = first.json().mfa_token;
    const sent = await sendEmailCode(t, mfaToken);
    expect(sent.statusCode).toBe(202);
    expect(sent.json()).toEqual({ sent: true, expires_in: 600 });
    expect(mailbox.codeMails(a.email)).toHaveLength(2);
    const loginCode = expectCodeMessage(mailbox.latestCodeMail(a.email), [PASSWORD, mfaToken, a.accessToken]);

    const tokens = await secondStep(t, mfaToken, loginCode, 'email');
    expect(tokens.statusCode).toBe(200);
    expect(tokens.json().user).toMatchObject({ id: a.userId, mfa_methods: ['email'] });
    expect((await claimsOf(t, tokens.json().access_token)).amr).toEqual(['pwd', 'otp']);

    const events = await auditRows(t, a.userId);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['mfa.email_enabled', 'mfa.used']));
    expect(JSON.parse(events.find((e) => e.type === 'mfa.used')!.detail)).toEqual({ method: 'email' });
    for (const event of events)
      for (const code of [setupCode, loginCode]) expect(JSON.stringify(event)).not.toContain(code);
  });

  it('takes a mailed code without `method` when email is the only factor, and codes pasted with spaces', async () => {
    const a = await userWithEmail();
    await t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/enable', headers: a.auth });
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/email/verify-setup',
      headers: a.auth,
      payload: { code: ` ${mailbox.latestCode(a.email)} ` },
    });
    expect(verified.statusCode).toBe(200);
    expect(verified.json().enabled).toBe(true);
    const token = await challenge(t, a.username);
    await sendEmailCode(t, token);
    const response = await secondStep(t, token, ` ${mailbox.latestCode(a.email)} `);
    expect(response.statusCode).toBe(200);
  });

  it('adds email to TOTP without new backup codes, and offers both methods at login', async () => {
    const a = await userWithEmail();
    const { secret, backupCodes } = await enableTOTP(t, a);
    await t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/enable', headers: a.auth });
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/email/verify-setup',
      headers: a.auth,
      payload: { code: mailbox.latestCode(a.email) },
    });
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toEqual({ enabled: true });
    expect((await t.app.inject({ url: '/api/user/me', headers: a.auth })).json().mfa_methods).toEqual([
      'totp',
      'email',
    ]);

    const first = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: a.username, password: PASSWORD },
    });
    expect(first.json().mfa_methods).toEqual(['totp', 'email', 'backup_code']);
    const token: string = first.json().mfa_token;
    expect((await sendEmailCode(t, token)).statusCode).toBe(202);
    // A TOTP code still signs in while an email code is pending, and old backup codes still count.
    expect((await secondStep(t, token, totpNow(t, secret))).statusCode).toBe(200);
    expect((await secondStep(t, await challenge(t, a.username), backupCodes[0]!, 'backup_code')).statusCode).toBe(200);
    // Without `method`, six digits that are not the app's code are tried as the mailed code.
    t.clock.advance(30_000);
    const other = await challenge(t, a.username);
    expect((await sendEmailCode(t, other)).statusCode).toBe(202);
    const byMail = await secondStep(t, other, mailbox.latestCode(a.email));
    expect(byMail.statusCode).toBe(200);
    expect((await claimsOf(t, byMail.json().access_token)).amr).toEqual(['pwd', 'otp']);
    expect(JSON.parse((await auditRows(t, a.userId)).filter((e) => e.type === 'mfa.used').at(-1)!.detail)).toEqual({
      method: 'email',
    });
  });

  it('disables 2FA with an emailed step-up code', async () => {
    const a = await userWithEmail();
    await t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/enable', headers: a.auth });
    await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/email/verify-setup',
      headers: a.auth,
      payload: { code: mailbox.latestCode(a.email) },
    });
    const sent = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/send', headers: a.auth, payload: {} });
    expect(sent.statusCode).toBe(202);
    const code = mailbox.latestCode(a.email);
    const disabled = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/disable',
      headers: a.auth,
      payload: { password: PASSWORD, code },
    });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toEqual({ enabled: false, mfa_enabled: false, mfa_methods: [] });
    expect((await t.app.inject({ url: '/api/auth/2fa', headers: a.auth })).json()).toEqual({
      totp_enabled: false,
      email_enabled: false,
      backup_codes_remaining: 0,
      totp_count: 0,
    });
  });

  it('refuses email codes to accounts without an email, twice-enabled accounts and users who never chose email', async () => {
    const noEmail = await signUp(t.app);
    const missing = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/enable', headers: noEmail.auth });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: 'validation_failed', fields: { email: expect.any(String) } });

    const a = await userWithEmail();
    await t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/enable', headers: a.auth });
    await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/email/verify-setup',
      headers: a.auth,
      payload: { code: mailbox.latestCode(a.email) },
    });
    const twice = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/enable', headers: a.auth });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error).toBe('mfa_already_enabled');
    // Confirming again is refused as such, whatever the code, not judged as a wrong code.
    const confirmedAgain = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/email/verify-setup',
      headers: a.auth,
      payload: { code: mailbox.latestCode(a.email) },
    });
    expect(confirmedAgain.statusCode).toBe(409);
    expect(confirmedAgain.json().error).toBe('mfa_already_enabled');

    // TOTP only: the mailbox must not become a factor the user never turned on.
    const b = await userWithEmail();
    await enableTOTP(t, b);
    const refused = await sendEmailCode(t, await challenge(t, b.username));
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toBe('mfa_not_enabled');
    expect(mailbox.codeMails(b.email)).toHaveLength(0);
  });
});
