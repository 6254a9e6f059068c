import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import {
  RESET_SUBJECT,
  VERIFY_SUBJECT,
  forgot,
  resendVerification,
  signUpWithEmail,
  waitForMail,
} from '../support/recovery.js';
import { challenge, enableEmailCodes, secondStep, sendEmailCode } from '../support/two-factor.js';

const dialects = await testDialects();
const redisAvailable = await new Redis('redis://127.0.0.1:6379', {
  lazyConnect: true,
  maxRetriesPerRequest: 0,
  connectTimeout: 1000,
})
  .connect()
  .then(() => true)
  .catch(() => false);
const HOUR_MS = 3600_000;
// Reset links, verification links and emailed codes each count against their own hourly budget per address.
const MAILS_PER_ADDRESS_PER_HOUR = 5;

const setups = [
  ...dialects.map((dialect) => [dialect, dialect, {}] as const),
  ...(redisAvailable
    ? [['sqlite with Redis counters', 'sqlite', { REDIS_URL: 'redis://127.0.0.1:6379' }] as const]
    : []),
];

describe.each(setups)('mail flooding one address on %s', (_name, dialect, env) => {
  let mailbox: Mailbox;
  let t: TestApp | undefined;
  beforeAll(async () => {
    mailbox = await startMailbox();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  afterAll(async () => mailbox?.close());

  const fromIp = (i: number) => `198.51.100.${i + 1}`;

  async function start(): Promise<TestApp> {
    const app = await buildTestApp({ dialect, env: { SMTP_URL: mailbox.url, ...env } });
    // Until the Redis connection is up, counts go to the database fallback: wait for it.
    for (let i = 0; i < 100 && 'REDIS_URL' in env; i++) {
      if ((await app.app.inject({ url: '/readyz' })).json().checks.redis === 'ok') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return app;
  }

  it('a stranger asking from many addresses gets at most 5 mails sent to one inbox per hour, and every answer stays 202', async () => {
    t = await start();
    const app = t.app;
    const user = await signUpWithEmail(t);
    await waitForMail(mailbox, user.email, VERIFY_SUBJECT);

    const answers = [];
    // Seven of each kind: more than either budget.
    for (let i = 0; i < 14; i++) {
      const ask = i % 2 === 0 ? forgot : resendVerification;
      const response = await app.inject({
        method: 'POST',
        url: ask === forgot ? '/api/auth/password/forgot' : '/api/auth/email/verify/resend',
        remoteAddress: fromIp(i),
        payload: { email: i % 3 === 0 ? user.email.toUpperCase() : user.email },
      });
      answers.push(response);
    }
    expect(answers.map((r) => r.statusCode)).toEqual(Array(14).fill(202));
    expect(new Set(answers.map((r) => r.body)).size).toBe(1);

    // Closing waits for every mail still being sent in the background.
    await waitForMail(mailbox, user.email, RESET_SUBJECT);
    await t.close();
    t = undefined;
    // At most 5 reset links and, apart, 5 verification links (the registration's included). Parallel
    // requests on a database counter may each read the other's hit and refuse one mail too many:
    // fewer, never more.
    const mails = mailbox.to(user.email);
    expect(mails.filter((m) => RESET_SUBJECT.test(m.subject)).length).toBeLessThanOrEqual(MAILS_PER_ADDRESS_PER_HOUR);
    expect(mails.filter((m) => VERIFY_SUBJECT.test(m.subject)).length).toBeLessThanOrEqual(MAILS_PER_ADDRESS_PER_HOUR);
  });

  it('the budget comes back after an hour, and the counters never hold the address', async () => {
    t = await start();
    const user = await signUpWithEmail(t);
    await waitForMail(mailbox, user.email, VERIFY_SUBJECT);
    for (let i = 1; i < MAILS_PER_ADDRESS_PER_HOUR; i++) {
      expect((await forgot(t, user.email)).statusCode).toBe(202);
      await waitForMail(mailbox, user.email, RESET_SUBJECT, i);
    }
    t.clock.advance(2 * HOUR_MS);
    expect((await forgot(t, user.email)).statusCode).toBe(202);
    await waitForMail(mailbox, user.email, RESET_SUBJECT, MAILS_PER_ADDRESS_PER_HOUR);

    if (!('REDIS_URL' in env)) {
      const keys = (await t.database.handle.db.selectFrom('rate_counters').select('counter_key').execute()).map(
        (row) => row.counter_key,
      );
      expect(keys.some((key) => key.startsWith('mail:'))).toBe(true);
      const [local] = user.email.split('@');
      for (const key of keys) {
        expect(key).not.toContain('@');
        expect(key.toLowerCase()).not.toContain(local!.toLowerCase());
      }
    }
  });

  it('emailed codes have an hourly budget too: the sixth code of the hour is refused with 429 and Retry-After', async () => {
    t = await start();
    const user = await signUpWithEmail(t);
    await waitForMail(mailbox, user.email, VERIFY_SUBJECT);
    const statuses: number[] = [];
    let refused;
    for (let i = 0; i <= MAILS_PER_ADDRESS_PER_HOUR; i++) {
      // Past the 30-second resend gap each time, so only the hourly budget can refuse.
      t.clock.advance(31_000);
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/email/enable',
        headers: user.auth,
        remoteAddress: fromIp(i),
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) refused = response;
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    expect(refused!.json()).toEqual({ error: 'too_many_attempts', message: expect.any(String) });
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThan(0);
    expect(mailbox.codeMails(user.email)).toHaveLength(MAILS_PER_ADDRESS_PER_HOUR);
  });

  it("a stranger spending the address's hourly links with reset requests cannot stop the owner receiving an emailed sign-in code", async () => {
    t = await start();
    const user = await signUpWithEmail(t);
    await waitForMail(mailbox, user.email, VERIFY_SUBJECT);
    await enableEmailCodes(t, user, user.email, mailbox);
    // The stranger knows only the address: five reset requests from five networks (the per-IP limits never bite).
    for (let i = 0; i < MAILS_PER_ADDRESS_PER_HOUR; i++) {
      expect(
        (
          await t.app.inject({
            method: 'POST',
            url: '/api/auth/password/forgot',
            remoteAddress: fromIp(i),
            payload: { email: user.email },
          })
        ).statusCode,
      ).toBe(202);
    }
    // Five mails have reached the inbox (the verification link, the code that enabled the method, resets).
    await vi.waitFor(() => expect(mailbox.to(user.email).length).toBeGreaterThanOrEqual(MAILS_PER_ADDRESS_PER_HOUR), {
      timeout: 10_000,
      interval: 10,
    });
    // The owner signs in: password, then a code by mail.
    t.clock.advance(31_000);
    const mfaToken = await challenge(t, user.username);
    const codesBefore = mailbox.codeMails(user.email).length;
    const sent = await sendEmailCode(t, mfaToken);
    expect(sent.statusCode).toBe(202);
    expect(mailbox.codeMails(user.email)).toHaveLength(codesBefore + 1);
    expect((await secondStep(t, mfaToken, mailbox.latestCode(user.email), 'email')).statusCode).toBe(200);
  });

  it('a thief holding only an access token who spends the step-up codes cannot stop the owner receiving an emailed sign-in code', async () => {
    t = await start();
    const user = await signUpWithEmail(t);
    await waitForMail(mailbox, user.email, VERIFY_SUBJECT);
    await enableEmailCodes(t, user, user.email, mailbox);
    // Step-up codes asked for with the stolen Bearer token alone, past the resend gap each time, until refused.
    const statuses: number[] = [];
    for (let i = 0; i < MAILS_PER_ADDRESS_PER_HOUR; i++) {
      t.clock.advance(31_000);
      statuses.push(
        (await t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/send', headers: user.auth, payload: {} }))
          .statusCode,
      );
    }
    // The code that turned the method on spent one of the five: the fifth step-up code is refused.
    expect(statuses).toEqual([202, 202, 202, 202, 429]);
    // The owner signs in: password, then a code by mail, which still arrives.
    t.clock.advance(31_000);
    const mfaToken = await challenge(t, user.username);
    const codesBefore = mailbox.codeMails(user.email).length;
    expect((await sendEmailCode(t, mfaToken)).statusCode).toBe(202);
    expect(mailbox.codeMails(user.email)).toHaveLength(codesBefore + 1);
    expect((await secondStep(t, mfaToken, mailbox.latestCode(user.email), 'email')).statusCode).toBe(200);
  });
});
