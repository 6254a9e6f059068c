import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { TEST_SECRETS, UNLIMITED, fastHasher, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/databases.js';
import { testDialects } from '../support/databases.js';
import type { Mailbox } from '../support/mailbox.js';
import {
  NEW_PASSWORD,
  RESET_SUBJECT,
  VERIFY_SUBJECT,
  changePassword,
  registerWithEmail,
  resetPassword,
  resetToken,
  signUpWithEmail,
  tokenFrom,
  tryLogin,
  unusedLinks,
  verifyEmail,
  waitForMail,
  startMailApp,
} from '../support/recovery.js';

const dialects = await testDialects();

describe.each(dialects)('reset links and password changes on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ t, mailbox, close } = await startMailApp({ dialect }));
  });
  afterAll(async () => close?.());

  it('a reset link mailed before a password change no longer opens the account after it', async () => {
    const user = await signUpWithEmail(t);
    const token = await resetToken(t, mailbox, user.email);
    const changed = await changePassword(t, user.auth);
    expect(changed.statusCode, changed.body).toBe(204);

    const reset = await resetPassword(t, token, 'an attacker chose this passphrase');
    expect(reset.statusCode).toBe(400);
    expect(reset.json()).toEqual({
      error: 'validation_failed',
      message: expect.any(String),
      fields: { token: 'is invalid or has expired' },
    });
    expect((await tryLogin(t, user.username, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('a completed reset leaves no reset link of that account working', async () => {
    const user = await registerWithEmail(t);
    const token = await resetToken(t, mailbox, user.email);
    // A second live link, as if asked for in another tab: the reset must kill it too, not only spend its own.
    await t.database.handle.db
      .insertInto('account_tokens')
      .values({
        token_hash: 'f'.repeat(64),
        user_id: user.userId,
        purpose: 'password_reset',
        created_at: t.clock.now().getTime(),
        expires_at: t.clock.now().getTime() + 600_000,
        used_at: null,
      })
      .execute();
    expect((await resetPassword(t, token)).statusCode).toBe(204);
    expect(await unusedLinks(t, user.userId, 'password_reset')).toEqual([]);
    expect((await resetPassword(t, token, 'yet another fine passphrase')).statusCode).toBe(400);
  });

  it('a password change leaves the email verification link working (only reset links carry the password)', async () => {
    const user = await signUpWithEmail(t);
    await waitForMail(mailbox, user.email, VERIFY_SUBJECT);
    const changed = await changePassword(t, user.auth);
    expect(changed.statusCode).toBe(204);
    expect(await unusedLinks(t, user.userId, 'email_verify')).toHaveLength(1);
    const mail = await waitForMail(mailbox, user.email, VERIFY_SUBJECT);
    expect((await verifyEmail(t, tokenFrom(mail))).statusCode).toBe(200);
  });

  it('the reset mail promises no code box that no page has: only the link', async () => {
    const user = await registerWithEmail(t);
    await resetToken(t, mailbox, user.email);
    const mail = await waitForMail(mailbox, user.email, RESET_SUBJECT);
    expect(mail.text).not.toMatch(/enter this code/i);
    expect(mail.html).not.toMatch(/enter this code/i);
    expect(mail.text).toContain(`${t.config.publicUrl}/app/reset-password?token=`);
  });
});

describe('tokens in URLs never reach the request log', () => {
  it('logs the reset and verification pages with their token replaced by [redacted]', async () => {
    const lines: string[] = [];
    const database = await createTestDatabase('sqlite');
    const config = loadConfig({
      NODE_ENV: 'test',
      ...TEST_SECRETS,
      ...UNLIMITED,
      DATABASE_URL: database.url,
      LOG_LEVEL: 'info',
    });
    const { app } = await createApp(config, {
      hasher: fastHasher,
      database: database.handle,
      logStream: { write: (line: string) => void lines.push(line) },
    });
    try {
      await app.ready();
      const secret = 'QmV0dGVyLXRoYW4tYS1yZWFsLXRva2VuLTEyMzQ1Njc4OQ';
      await app.inject({ url: `/app/reset-password?token=${secret}` });
      await app.inject({ url: `/app/verify-email?lang=en&token=${secret}&x=1` });
      await app.inject({ url: `/app/verify-email?TOKEN=${secret}` });
      await app.inject({ url: `/app/reset-password?%74oken=${secret}` });
      await app.inject({ url: `/app/login?code=${secret}` });
      const log = lines.join('');
      expect(log).not.toContain(secret);
      const urls = lines
        .map((line) => JSON.parse(line) as { req?: { url: string } })
        .flatMap((entry) => (entry.req ? [entry.req.url] : []));
      expect(urls).toEqual([
        '/app/reset-password?token=[redacted]',
        '/app/verify-email?lang=en&token=[redacted]&x=1',
        '/app/verify-email?TOKEN=[redacted]',
        '/app/reset-password?%74oken=[redacted]',
        '/app/login?code=[redacted]',
      ]);
    } finally {
      await app.close();
      await database.drop();
    }
  });
});
