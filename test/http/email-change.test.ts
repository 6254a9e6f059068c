import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/lib/crypto.js';
import { PASSWORD, login, signUp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import {
  CHANGE_SUBJECT,
  NOTICE_SUBJECT,
  changeToken,
  freshAddress,
  pendingEmail,
  requestChange,
} from '../support/email-change.js';
import type { Mailbox } from '../support/mailbox.js';
import {
  NEW_PASSWORD,
  RESET_SUBJECT,
  resetPassword,
  resetToken,
  signUpWithEmail,
  startMailApp,
  tokenFrom,
  tryLogin,
  verifyEmail,
  waitForMail,
} from '../support/recovery.js';
import { auditRows } from '../support/two-factor.js';

const dialects = await testDialects();

describe.each(dialects)('adding and changing the email address on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ t, mailbox, close } = await startMailApp({ dialect }));
  });
  afterAll(async () => close?.());

  const me = async (auth: { authorization: string }) =>
    (await t.app.inject({ url: '/api/user/me', headers: auth })).json();

  it('an account registered without an address adds one, proves it with the link, then resets its password with it', async () => {
    const user = await signUp(t.app);
    expect((await me(user.auth)).email).toBeNull();
    const email = freshAddress();

    const asked = await requestChange(t, user.auth, { email });
    expect(asked.statusCode).toBe(202);
    expect(asked.json()).toEqual({ pending_email: email, expires_in: 24 * 3600 });
    expect(asked.headers['cache-control']).toBe('no-store');
    // Not the account's address yet: only pending.
    expect((await me(user.auth)).email).toBeNull();
    const pending = await pendingEmail(t, user.auth);
    expect(pending.json()).toEqual({ pending_email: email, expires_in: 24 * 3600 });
    expect(pending.headers['cache-control']).toBe('no-store');

    const mail = await waitForMail(mailbox, email, CHANGE_SUBJECT);
    const token = tokenFrom(mail);
    expect(mail.text).toContain(`${t.config.publicUrl}/app/verify-email?token=${token}`);
    expect(mail.text).toContain('expires in 24 hours');
    // Only the token's hash is stored.
    const rows = await t.database.handle.db
      .selectFrom('email_changes')
      .selectAll()
      .where('user_id', '=', user.userId)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(sha256Hex(token));

    const verified = await verifyEmail(t, token);
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({ id: user.userId, email, email_verified: true });
    expect((await pendingEmail(t, user.auth)).json()).toEqual({ pending_email: null, expires_in: null });
    // Signs in by the new address; a forgotten password now reaches it.
    expect((await tryLogin(t, email.toUpperCase())).statusCode).toBe(200);
    const reset = await resetPassword(t, await resetToken(t, mailbox, email));
    expect(reset.statusCode).toBe(204);
    expect((await tryLogin(t, user.username, NEW_PASSWORD)).statusCode).toBe(200);

    const events = (await auditRows(t, user.userId)).filter((e) => e.type.startsWith('email.'));
    expect(events.map((e) => e.type)).toEqual(['email.change_requested', 'email.changed']);
    // Personal data stays out of the trail: a keyed reference, never the address.
    for (const event of events) {
      expect(JSON.stringify(event.detail)).not.toContain(email.split('@')[0]!);
      expect(JSON.parse(String(event.detail))).toMatchObject({ address_ref: expect.stringMatching(/^[0-9a-f]{16}$/) });
    }
  });

  it('a change notifies the old address, which keeps working until the new one is proven; other sessions stay', async () => {
    const user = await signUpWithEmail(t);
    const other = await login(t.app, user.username);
    const email = freshAddress('moved');
    const token = await changeToken(t, mailbox, user.auth, email);

    const notice = await waitForMail(mailbox, user.email, NOTICE_SUBJECT);
    const [local] = email.split('@');
    expect(notice.text).toContain(`${local![0]}***@example.com`);
    expect(notice.text).not.toContain(local);
    expect(notice.text).toMatch(/If this wasn't you/);
    // The old address still signs in and still gets reset links before the new one is proven.
    expect((await tryLogin(t, user.email)).statusCode).toBe(200);
    const oldLink = await resetToken(t, mailbox, user.email);
    expect((await me(user.auth)).email).toBe(user.email);

    expect((await verifyEmail(t, token)).statusCode).toBe(200);
    expect((await me(user.auth)).email).toBe(email);
    // Now the old address names no account, and the reset link mailed to it is dead.
    expect((await tryLogin(t, user.email)).statusCode).toBe(401);
    expect((await resetPassword(t, oldLink)).statusCode).toBe(400);
    expect((await tryLogin(t, user.username, PASSWORD)).statusCode).toBe(200);
    // Changing the address is not a password change: the other session goes on.
    expect((await t.app.inject({ url: '/api/user/me', headers: other.auth })).statusCode).toBe(200);
  });

  it('a new request replaces the pending one: only the newest link works', async () => {
    const user = await signUp(t.app);
    const first = freshAddress('first');
    const second = freshAddress('second');
    const firstToken = await changeToken(t, mailbox, user.auth, first);
    const secondToken = await changeToken(t, mailbox, user.auth, second);
    expect((await pendingEmail(t, user.auth)).json().pending_email).toBe(second);
    expect((await verifyEmail(t, firstToken)).statusCode).toBe(400);
    expect((await verifyEmail(t, secondToken)).json().email).toBe(second);
  });

  it('a link of a day lives a day', async () => {
    const user = await signUp(t.app);
    const token = await changeToken(t, mailbox, user.auth, freshAddress('late'));
    t.clock.advance(24 * 3600 * 1000 + 1000);
    const late = await verifyEmail(t, token);
    expect(late.statusCode).toBe(400);
    expect(late.json().fields).toEqual({ token: 'is invalid or has expired' });
    // The access token has expired too: a new sign-in sees no pending change.
    const again = await login(t.app, user.username);
    expect((await pendingEmail(t, again.auth)).json()).toEqual({ pending_email: null, expires_in: null });
  });

  it('refuses the current address (400 naming the field), a taken one (409, as registration does) and a malformed one', async () => {
    const user = await signUpWithEmail(t);
    const same = await requestChange(t, user.auth, { email: user.email.toUpperCase() });
    expect(same.statusCode).toBe(400);
    expect(same.json()).toMatchObject({ error: 'validation_failed', fields: { email: expect.any(String) } });
    const owner = await signUpWithEmail(t);
    const taken = await requestChange(t, user.auth, { email: owner.email });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toEqual({ error: 'email_taken', message: expect.any(String) });
    for (const email of ['not an address', 'kаte@example.com', `${'a'.repeat(250)}@example.com`]) {
      const bad = await requestChange(t, user.auth, { email });
      expect(bad.statusCode, email).toBe(400);
      expect(Object.keys(bad.json().fields), email).toEqual(['email']);
    }
    expect(mailbox.to(owner.email).filter((m) => NOTICE_SUBJECT.test(m.subject))).toEqual([]);
    expect((await pendingEmail(t, user.auth)).json().pending_email).toBeNull();
  });

  it('still verifies an ordinary verification link, and asks for a token the same way for both', async () => {
    const user = await signUpWithEmail(t);
    const mail = await waitForMail(mailbox, user.email, /^Confirm your email address for /);
    expect((await verifyEmail(t, tokenFrom(mail))).json()).toMatchObject({ email: user.email, email_verified: true });
    expect(mailbox.to(user.email).some((m) => RESET_SUBJECT.test(m.subject))).toBe(false);
  });
});
