import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/lib/crypto.js';
import { PASSWORD, login, register, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import type { Mailbox } from '../support/mailbox.js';
import {
  NEW_PASSWORD,
  RESET_SUBJECT,
  VERIFY_SUBJECT,
  forgot,
  registerWithEmail,
  resendVerification,
  resetPassword,
  resetToken,
  signUpWithEmail,
  tokenFrom,
  tryLogin,
  verifyEmail,
  waitForMail,
  startMailApp,
} from '../support/recovery.js';

const dialects = await testDialects();
const MINUTE_MS = 60_000;
const INVALID_TOKEN = {
  error: 'validation_failed',
  message: expect.any(String),
  fields: { token: 'is invalid or has expired' },
};

describe.each(dialects)('password reset and email verification over HTTP on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ t, mailbox, close } = await startMailApp({ dialect }));
  });
  afterAll(async () => close?.());

  const me = (auth: { authorization: string }) => t.app.inject({ url: '/api/user/me', headers: auth });
  const refresh = (refreshToken: string) =>
    t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: refreshToken } });

  describe('forgotten password', () => {
    it('answers 202 with the same body for a known and an unknown address, and mails only the known one', async () => {
      const user = await registerWithEmail(t);
      const unknown = `${uniqueName('nobody')}@example.com`;
      const known = await forgot(t, user.email.toUpperCase());
      const stranger = await forgot(t, unknown);
      expect(known.statusCode).toBe(202);
      expect(stranger.statusCode).toBe(202);
      expect(known.json()).toEqual({ accepted: true });
      expect(stranger.body).toBe(known.body);
      await waitForMail(mailbox, user.email, RESET_SUBJECT);
      expect(mailbox.to(unknown)).toEqual([]);
    });

    it('mails the link, the token and the expiry, and stores only the token hash', async () => {
      const user = await registerWithEmail(t);
      await forgot(t, user.email);
      const mail = await waitForMail(mailbox, user.email, RESET_SUBJECT);
      const token = tokenFrom(mail);
      const link = `${t.config.publicUrl}/app/reset-password?token=${token}`;
      expect(mail.contentTypes).toEqual(expect.arrayContaining(['text/plain', 'text/html']));
      expect(mail.text).toContain(link);
      expect(mail.text).toContain('expires in 30 minutes');
      expect(mail.html).toContain(`href="${link}"`);
      expect(mail.html).toContain(token);
      // No other secret: the token is the only 43-character random string in the message.
      expect(new Set(mail.text?.match(/[A-Za-z0-9_-]{43,}/g))).toEqual(new Set([token]));
      expect(mail.text).not.toContain(PASSWORD);

      const rows = await t.database.handle.db
        .selectFrom('account_tokens')
        .selectAll()
        .where('user_id', '=', user.userId)
        .where('purpose', '=', 'password_reset')
        .execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ token_hash: sha256Hex(token), used_at: null });
      expect(Number(rows[0]!.expires_at) - Number(rows[0]!.created_at)).toBe(30 * MINUTE_MS);
    });

    it('works once: the new password signs in, the old one does not, every session ends, the link is spent', async () => {
      const a = await signUpWithEmail(t);
      const second = await login(t.app, a.username);
      const token = await resetToken(t, mailbox, a.email);

      const reset = await resetPassword(t, token);
      expect(reset.statusCode).toBe(204);
      expect(reset.body).toBe('');
      for (const session of [a, second]) {
        expect((await me(session.auth)).statusCode).toBe(401);
        expect((await refresh(session.refreshToken)).statusCode).toBe(401);
      }
      const old = await tryLogin(t, a.username);
      expect(old.statusCode).toBe(401);
      expect(old.json().error).toBe('invalid_credentials');
      expect((await tryLogin(t, a.username, NEW_PASSWORD)).statusCode).toBe(200);

      const again = await resetPassword(t, token, 'yet another long passphrase');
      expect(again.statusCode).toBe(400);
      expect(again.json()).toEqual(INVALID_TOKEN);
      expect((await tryLogin(t, a.username, NEW_PASSWORD)).statusCode).toBe(200);
    });

    it('checks a link without spending it: valid until used, then invalid like an unknown one; nothing about the account', async () => {
      const user = await registerWithEmail(t);
      const token = await resetToken(t, mailbox, user.email);
      const check = (value: string) =>
        t.app.inject({ method: 'POST', url: '/api/auth/password/reset/check', payload: { token: value } });
      for (let i = 0; i < 2; i++) {
        const valid = await check(token);
        expect(valid.statusCode).toBe(200);
        expect(valid.json()).toEqual({ valid: true });
      }
      expect((await resetPassword(t, token)).statusCode).toBe(204);
      const spent = await check(token);
      expect(spent.statusCode).toBe(400);
      expect(spent.json()).toEqual(INVALID_TOKEN);
      expect((await check('A'.repeat(43))).json()).toEqual(INVALID_TOKEN);
    });

    it('answers an unknown token with validation_failed on the token field', async () => {
      const response = await resetPassword(t, 'A'.repeat(43));
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual(INVALID_TOKEN);
    });

    it('keeps only the newest link: asking again kills the previous one', async () => {
      const user = await registerWithEmail(t);
      const first = await resetToken(t, mailbox, user.email, 1);
      const second = await resetToken(t, mailbox, user.email, 2);
      expect(second).not.toBe(first);
      expect((await resetPassword(t, first)).json()).toEqual(INVALID_TOKEN);
      expect((await resetPassword(t, second)).statusCode).toBe(204);
    });

    it('expires after 30 minutes', async () => {
      const early = await registerWithEmail(t);
      const late = await registerWithEmail(t);
      const earlyToken = await resetToken(t, mailbox, early.email);
      const lateToken = await resetToken(t, mailbox, late.email);
      t.clock.advance(29 * MINUTE_MS);
      expect((await resetPassword(t, earlyToken)).statusCode).toBe(204);
      t.clock.advance(MINUTE_MS);
      const expired = await resetPassword(t, lateToken);
      expect(expired.statusCode).toBe(400);
      expect(expired.json()).toEqual(INVALID_TOKEN);
      expect((await tryLogin(t, late.username)).statusCode).toBe(200);
    });

    it('refuses a weak new password without spending the link', async () => {
      const user = await registerWithEmail(t);
      const token = await resetToken(t, mailbox, user.email);
      for (const weak of ['short', 'password123', user.username]) {
        const refused = await resetPassword(t, token, weak);
        expect(refused.statusCode).toBe(400);
        expect(refused.json()).toMatchObject({
          error: 'validation_failed',
          fields: { new_password: expect.any(String) },
        });
      }
      expect((await tryLogin(t, user.username)).statusCode).toBe(200);
      expect((await resetPassword(t, token)).statusCode).toBe(204);
    });

    it('lets exactly one of two parallel resets with one token win', async () => {
      const user = await registerWithEmail(t);
      const token = await resetToken(t, mailbox, user.email);
      const candidates = ['first parallel passphrase', 'second parallel passphrase'];
      const results = await Promise.all(candidates.map((p) => resetPassword(t, token, p)));
      expect(results.map((r) => r.statusCode).sort()).toEqual([204, 400]);
      const winner = candidates[results.findIndex((r) => r.statusCode === 204)]!;
      const loser = candidates.find((p) => p !== winner)!;
      expect((await tryLogin(t, user.username, winner)).statusCode).toBe(200);
      expect((await tryLogin(t, user.username, loser)).statusCode).toBe(401);
    });
  });

  describe('email verification', () => {
    it('mails a link at registration; verify marks the address verified, once', async () => {
      const user = await signUpWithEmail(t);
      const mail = await waitForMail(mailbox, user.email, VERIFY_SUBJECT);
      const token = tokenFrom(mail);
      expect(mail.text).toContain(`${t.config.publicUrl}/app/verify-email?token=${token}`);
      expect(mail.text).toContain('expires in 24 hours');
      expect(mail.html).toContain(token);
      expect((await me(user.auth)).json().email_verified).toBe(false);

      const verified = await verifyEmail(t, token);
      expect(verified.statusCode).toBe(200);
      expect(verified.json()).toMatchObject({
        id: user.userId,
        username: user.username,
        email: user.email,
        email_verified: true,
      });
      expect((await me(user.auth)).json().email_verified).toBe(true);
      const again = await verifyEmail(t, token);
      expect(again.statusCode).toBe(400);
      expect(again.json()).toEqual(INVALID_TOKEN);
    });

    it('sends nothing at registration without an email, and a reset token does not verify', async () => {
      const username = uniqueName('plain');
      expect((await register(t.app, username)).statusCode).toBe(201);
      const user = await registerWithEmail(t);
      const token = await resetToken(t, mailbox, user.email);
      expect((await verifyEmail(t, token)).json()).toEqual(INVALID_TOKEN);
      expect((await resetPassword(t, token)).statusCode).toBe(204);
    });

    it('expires after 24 hours; resend replaces the link, and sends nothing once verified', async () => {
      const user = await registerWithEmail(t);
      const first = tokenFrom(await waitForMail(mailbox, user.email, VERIFY_SUBJECT));
      t.clock.advance(24 * 60 * MINUTE_MS);
      expect((await verifyEmail(t, first)).json()).toEqual(INVALID_TOKEN);

      expect((await resendVerification(t, user.email.toUpperCase())).statusCode).toBe(202);
      const second = tokenFrom(await waitForMail(mailbox, user.email, VERIFY_SUBJECT, 2));
      expect((await resendVerification(t, user.email)).json()).toEqual({ accepted: true });
      const third = tokenFrom(await waitForMail(mailbox, user.email, VERIFY_SUBJECT, 3));
      expect((await verifyEmail(t, second)).json()).toEqual(INVALID_TOKEN);
      expect((await verifyEmail(t, third)).statusCode).toBe(200);

      // Already verified: nothing is sent. A later request to another address is the marker that the first was handled.
      const other = await registerWithEmail(t);
      await waitForMail(mailbox, other.email, VERIFY_SUBJECT);
      expect((await resendVerification(t, user.email)).statusCode).toBe(202);
      expect((await resendVerification(t, other.email)).statusCode).toBe(202);
      await waitForMail(mailbox, other.email, VERIFY_SUBJECT, 2);
      expect(mailbox.to(user.email).filter((m) => VERIFY_SUBJECT.test(m.subject))).toHaveLength(3);
    });
  });

  it('writes password.reset and email.verified to the audit trail, never a token', async () => {
    const user = await registerWithEmail(t);
    const verifyToken = tokenFrom(await waitForMail(mailbox, user.email, VERIFY_SUBJECT));
    expect((await verifyEmail(t, verifyToken)).statusCode).toBe(200);
    const token = await resetToken(t, mailbox, user.email);
    expect((await resetPassword(t, token)).statusCode).toBe(204);

    const rows = await t.database.handle.db
      .selectFrom('audit_events')
      .selectAll()
      .where('user_id', '=', user.userId)
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.type)).toEqual(
      expect.arrayContaining(['user.registered', 'email.verified', 'password.reset']),
    );
    expect(rows.find((r) => r.type === 'password.reset')).toMatchObject({ ip: '127.0.0.1' });
    const everything = JSON.stringify(await t.database.handle.db.selectFrom('audit_events').selectAll().execute());
    for (const secret of [token, verifyToken, sha256Hex(token), sha256Hex(verifyToken), NEW_PASSWORD])
      expect(everything).not.toContain(secret);
  });
});

describe.each(dialects)('REQUIRE_EMAIL=true on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ t, mailbox, close } = await startMailApp({ dialect, env: { REQUIRE_EMAIL: 'true' } }));
  });
  afterAll(async () => close?.());

  it('refuses registration without an email address', async () => {
    const response = await register(t.app, uniqueName());
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'validation_failed', fields: { email: expect.any(String) } });
  });

  it('refuses sign-in until the address is verified, and only with the right password', async () => {
    const user = await registerWithEmail(t);
    for (const identifier of [user.username, user.email]) {
      const early = await tryLogin(t, identifier);
      expect(early.statusCode).toBe(403);
      expect(early.json()).toEqual({ error: 'forbidden', message: expect.stringMatching(/verify your email/i) });
    }
    const wrong = await tryLogin(t, user.username, 'not the password at all');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('invalid_credentials');

    const token = tokenFrom(await waitForMail(mailbox, user.email, VERIFY_SUBJECT));
    expect((await verifyEmail(t, token)).statusCode).toBe(200);
    expect((await tryLogin(t, user.username)).statusCode).toBe(200);
  });

  it('never locks an account for signing in with the right password before verifying', async () => {
    const user = await registerWithEmail(t);
    for (let i = 0; i < 8; i++) expect((await tryLogin(t, user.username)).statusCode).toBe(403);
    const token = tokenFrom(await waitForMail(mailbox, user.email, VERIFY_SUBJECT));
    expect((await verifyEmail(t, token)).statusCode).toBe(200);
    expect((await tryLogin(t, user.username)).statusCode).toBe(200);
  });

  it('treats a completed password reset as proof of the address', async () => {
    const user = await registerWithEmail(t);
    const token = await resetToken(t, mailbox, user.email);
    expect((await resetPassword(t, token)).statusCode).toBe(204);
    expect((await tryLogin(t, user.username, NEW_PASSWORD)).statusCode).toBe(200);
  });
});
