import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PASSWORD, login, register, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import type { Mailbox } from '../support/mailbox.js';
import { RESET_SUBJECT, VERIFY_SUBJECT, startMailApp, unusedLinks } from '../support/recovery.js';

const dialects = await testDialects();

describe.each(dialects)('account mails issued at the same moment on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ t, mailbox, close } = await startMailApp({ dialect }));
  });
  afterAll(async () => close?.());

  it('account mails asked for at the same moment all go out (none is lost to a database deadlock) and exactly one reset link stays live', async () => {
    const emails: string[] = [];
    const userIds: number[] = [];
    for (let round = 0; round < 20; round++) {
      const username = uniqueName('race');
      const email = `${username.toLowerCase()}@example.com`;
      const registered = await register(t.app, username, PASSWORD, email);
      expect(registered.statusCode).toBe(201);
      userIds.push(registered.json().id);
      emails.push(email);
      // Two reset links and a new verification link for one account, asked for together.
      const answers = await Promise.all([
        t.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email } }),
        t.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email } }),
        t.app.inject({ method: 'POST', url: '/api/auth/email/verify/resend', payload: { email } }),
      ]);
      expect(answers.map((answer) => answer.statusCode)).toEqual([202, 202, 202]);
    }
    // Four mails each (within the hourly five): the registration's link, two reset links, the new verification link.
    await vi.waitFor(
      () => {
        for (const email of emails) {
          const mails = mailbox.to(email);
          expect(
            mails.filter((mail) => RESET_SUBJECT.test(mail.subject)),
            email,
          ).toHaveLength(2);
          expect(
            mails.filter((mail) => VERIFY_SUBJECT.test(mail.subject)),
            email,
          ).toHaveLength(2);
        }
      },
      { timeout: 15_000, interval: 20 },
    );
    // Of the two reset links asked for together, exactly one stays live (a new link replaces the old one).
    for (const userId of userIds) {
      expect(await unusedLinks(t, userId, 'password_reset'), `user ${userId}`).toHaveLength(1);
    }
  });

  it('a burst of requests for an emailed code never answers 500, and exactly one of them mails a code (the resend gap holds under a race)', async () => {
    const addresses: string[] = [];
    for (let round = 0; round < 10; round++) {
      const username = uniqueName('codes');
      const email = `${username.toLowerCase()}@example.com`;
      addresses.push(email);
      expect((await register(t.app, username, PASSWORD, email)).statusCode).toBe(201);
      const session = await login(t.app, username);
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/enable', headers: session.auth }),
        ),
      );
      expect(
        answers.map((answer) => answer.statusCode).sort(),
        answers.map((answer) => answer.body).join('\n'),
      ).toEqual([202, 429, 429, 429]);
    }
    await vi.waitFor(
      () => {
        for (const email of addresses) expect(mailbox.codeMails(email), email).toHaveLength(1);
      },
      { timeout: 10_000, interval: 20 },
    );
    // Nothing more arrives later.
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const email of addresses) expect(mailbox.codeMails(email), email).toHaveLength(1);
  });
});
