import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { App } from '../../src/http/server.js';
import { createManualClock, type Clock } from '../../src/lib/clock.js';
import { deriveKey, hmacHex } from '../../src/lib/crypto.js';
import { canonicalEmail } from '../../src/modules/accounts/email-address.js';
import {
  PASSWORD,
  buildTestApp,
  fastHasher,
  login,
  register,
  signUp,
  uniqueName,
  type TestApp,
} from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { challenge, enableEmailCodes, sendEmailCode } from '../support/two-factor.js';

/**
 * The limits on mailed codes: the 30-second resend gap (also under parallel requests, where only the
 * database can decide), the hourly budget per address, and the answers that say why a code was not sent.
 */

const dialects = await testDialects();
const RESEND_MESSAGE = 'A code was just sent; wait before asking for another.';
const QUOTA_MESSAGE = 'Too many codes were mailed to this address in the last hour; use another method or try later.';

let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => mailbox?.close());

describe.each(dialects)('limits on mailed codes on %s', (dialect) => {
  let t: TestApp;
  let ticking: App;
  beforeAll(async () => {
    t = await buildTestApp({
      dialect,
      env: { SMTP_URL: mailbox.url, MAIL_FROM: 'Twofold <no-reply@twofold.test>', LOCKOUT_THRESHOLD: '100' },
    });
    // A second instance on the same database whose clock moves 1 ms at every reading: parallel
    // requests then write their codes at different instants, as they would in production, and the
    // resend gap must still hold between them.
    const base = createManualClock(new Date('2026-03-01T12:00:00Z'));
    const clock: Clock = {
      now: () => {
        base.advance(1);
        return base.now();
      },
    };
    ticking = (await createApp(t.config, { clock, hasher: fastHasher, database: t.database.handle, migrate: false }))
      .app;
    await ticking.ready();
  });
  afterAll(async () => {
    await ticking?.close();
    await t?.close();
  });

  async function emailUser(app: App = t.app) {
    const username = uniqueName('lim');
    const email = `${username.toLowerCase()}@example.test`;
    expect((await register(app, username, PASSWORD, email)).statusCode).toBe(201);
    const session = { ...(await login(app, username)), username, email };
    await enableEmailCodes({ ...t, app }, session, email, mailbox);
    return session;
  }

  /** Hits counted for `kind` to `email`, summed over the hourly windows (the counter key names the budget). */
  async function budgetHits(email: string, kind: string): Promise<number> {
    const hash = hmacHex(deriveKey(t.config.encryptionKey, 'mail-quota'), canonicalEmail(email));
    const rows = await t.database.handle.db
      .selectFrom('rate_counters')
      .select(['counter_key', 'hits'])
      .where('counter_key', 'like', `mail:${kind}:${hash}:%`)
      .execute();
    return rows.reduce((sum, row) => sum + Number(row.hits), 0);
  }

  it('says why no code was sent: no address, or the last one is under 30 seconds old', async () => {
    const noEmail = await signUp(t.app);
    const missing = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/enable', headers: noEmail.auth });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({
      error: 'validation_failed',
      fields: { email: 'add an email address to your account first' },
    });

    const a = await emailUser();
    const token = await challenge(t, a.username);
    expect((await sendEmailCode(t, token)).statusCode).toBe(202);
    t.clock.advance(10_000);
    const tooSoon = await sendEmailCode(t, token);
    expect(tooSoon.statusCode).toBe(429);
    expect(tooSoon.json()).toMatchObject({ error: 'too_many_attempts', message: RESEND_MESSAGE });
    expect(tooSoon.headers['retry-after']).toBe('20');
  });

  it('sign-in codes and codes asked for with an access token spend separate hourly budgets', async () => {
    const a = await emailUser();
    // Setting up email codes spent one code of the session budget, none of the sign-in one.
    expect(await budgetHits(a.email, 'session_code')).toBe(1);
    expect(await budgetHits(a.email, 'code')).toBe(0);

    const token = await challenge(t, a.username);
    for (let i = 0; i < 5; i++) {
      t.clock.advance(30_000);
      expect((await sendEmailCode(t, token)).statusCode).toBe(202);
    }
    t.clock.advance(30_000);
    const mailsBefore = mailbox.codeMails(a.email).length;
    const refused = await sendEmailCode(t, token);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: 'too_many_attempts', message: QUOTA_MESSAGE });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(mailbox.codeMails(a.email)).toHaveLength(mailsBefore);
    expect(await budgetHits(a.email, 'code')).toBe(6);

    // Someone spamming sign-in codes (they hold the password) cannot stop the owner's step-up code.
    const stepUp = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/email/send',
      headers: a.auth,
      payload: {},
    });
    expect(stepUp.statusCode).toBe(202);
    expect(mailbox.codeMails(a.email)).toHaveLength(mailsBefore + 1);
    expect(await budgetHits(a.email, 'session_code')).toBe(2);
    expect(await budgetHits(a.email, 'code')).toBe(6);
  });

  it('of parallel sends exactly one mails a code; the others are 429 with Retry-After 30', async () => {
    const a = await emailUser(ticking);
    const token = await challenge({ app: ticking }, a.username);
    const before = mailbox.codeMails(a.email).length;
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        ticking.inject({ method: 'POST', url: '/api/auth/2fa/email/send', payload: { mfa_token: token } }),
      ),
    );
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([202, 429, 429, 429]);
    for (const refused of responses.filter((r) => r.statusCode === 429)) {
      expect(refused.json()).toMatchObject({ error: 'too_many_attempts', message: RESEND_MESSAGE });
      expect(refused.headers['retry-after']).toBe('30');
    }
    expect(mailbox.codeMails(a.email)).toHaveLength(before + 1);
    // The one code mailed is the one stored.
    const signedIn = await ticking.inject({
      method: 'POST',
      url: '/api/auth/2fa/login',
      payload: { mfa_token: token, code: mailbox.latestCode(a.email), method: 'email' },
    });
    expect(signedIn.statusCode).toBe(200);
  });
});
