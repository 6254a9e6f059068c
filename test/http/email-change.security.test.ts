import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/lib/crypto.js';
import { createEmailChangeRepository } from '../../src/modules/recovery/email-change.repository.js';
import { login, signUp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { changeToken, freshAddress, pendingEmail, requestChange } from '../support/email-change.js';
import type { Mailbox } from '../support/mailbox.js';
import {
  RESET_SUBJECT,
  VERIFY_SUBJECT,
  registerWithEmail,
  resendVerification,
  signUpWithEmail,
  startMailApp,
  tokenFrom,
  verifyEmail,
  waitForMail,
} from '../support/recovery.js';
import { outcomes } from '../support/two-factor.js';

const dialects = await testDialects();
/** REAUTH_MAX_AGE's default: 300 s. */
const MAX_AGE_MS = 300_000;
const MAILS_PER_ADDRESS_PER_HOUR = 5;

describe.each(dialects)('email change attacks on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ t, mailbox, close } = await startMailApp({ dialect }));
  });
  afterAll(async () => close?.());

  const emailOf = async (auth: { authorization: string }): Promise<string | null> =>
    (await t.app.inject({ url: '/api/user/me', headers: auth })).json().email;

  it('a stolen access token older than REAUTH_MAX_AGE cannot redirect the account to another address', async () => {
    const user = await signUp(t.app);
    t.clock.advance(MAX_AGE_MS + 1000);
    // Refreshed tokens keep the old auth_time: the refresh does not count as a sign-in.
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: user.refreshToken },
    });
    const auth = { authorization: `Bearer ${refreshed.json().access_token as string}` };
    const email = freshAddress('thief');
    const refused = await requestChange(t, auth, { email });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({ error: 'reauth_required', message: expect.any(String) });
    expect((await pendingEmail(t, auth)).json().pending_email).toBeNull();
    expect(mailbox.to(email)).toEqual([]);
    // Without a token at all: 401.
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/email/change', payload: { email } })).statusCode).toBe(
      401,
    );
    expect((await t.app.inject({ url: '/api/auth/email/pending' })).statusCode).toBe(401);
  });

  it('refuses extra fields and huge bodies, naming the field', async () => {
    const user = await signUp(t.app);
    const extra = await requestChange(t, user.auth, { email: freshAddress(), email_verified: true, user_id: 1 });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().fields).toMatchObject({ email_verified: 'is not allowed', user_id: 'is not allowed' });
    const huge = await requestChange(t, user.auth, { email: `${'a'.repeat(2_000_000)}@example.com` });
    expect([400, 413]).toContain(huge.statusCode);
    expect((await pendingEmail(t, user.auth)).json().pending_email).toBeNull();
  });

  it('a link works once: the replayed token is refused and changes nothing', async () => {
    const user = await signUp(t.app);
    const email = freshAddress('once');
    const token = await changeToken(t, mailbox, user.auth, email);
    expect((await verifyEmail(t, token)).statusCode).toBe(200);
    const replay = await verifyEmail(t, token);
    expect(replay.statusCode).toBe(400);
    expect(replay.json().fields).toEqual({ token: 'is invalid or has expired' });
    // Parallel uses of one token: exactly one wins.
    const next = freshAddress('parallel');
    const token2 = await changeToken(t, mailbox, user.auth, next);
    const answers = await Promise.all(Array.from({ length: 4 }, () => verifyEmail(t, token2)));
    expect(outcomes(answers)).toEqual({ '200': 1, '400 validation_failed': 3 });
    expect(await emailOf(user.auth)).toBe(next);
  });

  it('the guarded DELETE lets exactly one of parallel uses of one change through, even when all found it live', async () => {
    const user = await signUp(t.app);
    const email = freshAddress('guarded');
    const token = await changeToken(t, mailbox, user.auth, email);
    const repository = createEmailChangeRepository(t.database.handle.db, t.database.handle.dialect);
    const now = t.clock.now().getTime();
    const change = await repository.findLive(sha256Hex(token), now);
    expect(change).toMatchObject({ userId: user.userId, newEmail: email });
    const results = await Promise.all(
      Array.from({ length: 4 }, () => repository.confirm(change!, sha256Hex(token), now)),
    );
    expect(results.sort()).toEqual(['changed', 'spent', 'spent', 'spent']);
  });

  it("another user's link sets only its owner's address, never the caller's", async () => {
    const victim = await signUpWithEmail(t);
    const attacker = await signUp(t.app);
    const email = freshAddress('victims-new');
    const token = await changeToken(t, mailbox, victim.auth, email);
    // The attacker, signed in, uses the victim's token: the answer is the victim's account, not theirs.
    const used = await t.app.inject({
      method: 'POST',
      url: '/api/auth/email/verify',
      headers: attacker.auth,
      payload: { token },
    });
    expect(used.json().id).toBe(victim.userId);
    expect(await emailOf(attacker.auth)).toBeNull();
    expect(await emailOf(victim.auth)).toBe(email);
    // A token the attacker made up, or a reset token, proves nothing.
    expect((await verifyEmail(t, 'A'.repeat(43))).statusCode).toBe(400);
  });

  it('two accounts racing to prove one address: exactly one 200, one 409, and the loser keeps its address', async () => {
    const a = await signUpWithEmail(t);
    const b = await signUpWithEmail(t);
    const email = freshAddress('contested');
    const tokenA = await changeToken(t, mailbox, a.auth, email);
    const tokenB = await changeToken(t, mailbox, b.auth, email, 2);
    const [answerA, answerB] = await Promise.all([verifyEmail(t, tokenA), verifyEmail(t, tokenB)]);
    expect(outcomes([answerA, answerB])).toEqual({ '200': 1, '409 email_taken': 1 });
    const [winner, loser] = answerA.statusCode === 200 ? [a, b] : [b, a];
    expect(await emailOf(winner.auth)).toBe(email);
    expect(await emailOf(loser.auth)).toBe(loser.email);
    const holders = await t.database.handle.db
      .selectFrom('users')
      .select('id')
      .where('email_normalized', '=', email)
      .execute();
    expect(holders.map((row) => row.id)).toEqual([winner.userId]);
  });

  it('an address registered meanwhile by someone else is not taken over: 409', async () => {
    const user = await signUp(t.app);
    const email = freshAddress('sniped');
    const token = await changeToken(t, mailbox, user.auth, email);
    const other = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { username: `sn${Date.now()}`, password: 'correct horse battery staple', email },
    });
    expect(other.statusCode).toBe(201);
    const late = await verifyEmail(t, token);
    expect(late.statusCode).toBe(409);
    expect(late.json().error).toBe('email_taken');
    expect(await emailOf(user.auth)).toBeNull();
  });

  it('a stranger spamming "forgot password" for an address cannot stop its owner receiving a new verification link', async () => {
    const user = await registerWithEmail(t);
    await waitForMail(mailbox, user.email, VERIFY_SUBJECT);
    // With the registration's link, these resets would fill one shared hourly budget of five mails.
    for (let i = 1; i < MAILS_PER_ADDRESS_PER_HOUR; i++) {
      const answer = await t.app.inject({
        method: 'POST',
        url: '/api/auth/password/forgot',
        remoteAddress: `198.51.100.${i}`,
        payload: { email: user.email },
      });
      expect(answer.statusCode).toBe(202);
      await waitForMail(mailbox, user.email, RESET_SUBJECT, i);
    }
    // The owner asks for a new verification link: it arrives, and it works.
    expect((await resendVerification(t, user.email)).statusCode).toBe(202);
    const link = await waitForMail(mailbox, user.email, VERIFY_SUBJECT, 2);
    expect((await verifyEmail(t, tokenFrom(link))).json()).toMatchObject({ id: user.userId, email_verified: true });
  });

  it('the change mails have their own hourly budget per address: the sixth request is refused with 429', async () => {
    const user = await signUp(t.app);
    const email = freshAddress('flooded');
    const statuses: number[] = [];
    for (let i = 0; i <= MAILS_PER_ADDRESS_PER_HOUR; i++) {
      const fresh = await login(t.app, user.username);
      statuses.push((await requestChange(t, fresh.auth, { email })).statusCode);
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
  });
});
