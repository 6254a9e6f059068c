import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { App } from '../../src/http/server.js';
import { buildTestApp, fastHasher, login, register, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { matchTOTPStep } from '../../src/modules/two-factor/totp.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import {
  STEP_MS,
  bearer,
  challenge,
  claimsOf,
  enableEmailCodes,
  enableTOTP,
  nextStep,
  otherCode,
  outcomes,
  passwordLogin,
  secondStep,
  sendEmailCode,
  startOfNextStep,
  totpNow,
} from '../support/two-factor.js';

/**
 * The second factor's security properties, each named as what it proves: replay, expiry (by
 * moving the clock), attempt budgets, single use, and races decided by guarded UPDATEs in the database.
 */

const dialects = await testDialects();

let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => mailbox?.close());

describe.each(dialects)('two-factor security on %s', (dialect) => {
  let t: TestApp;
  let twin: App;
  beforeAll(async () => {
    // The per-account lockout (tested in its own suite) would stop these attacks after 5 failures
    // and hide whether the second factor's own budgets hold; it is lifted so that they are what is tested.
    t = await buildTestApp({
      dialect,
      env: { SMTP_URL: mailbox.url, MAIL_FROM: 'Twofold <no-reply@twofold.test>', LOCKOUT_THRESHOLD: '100' },
    });
    twin = (
      await createApp(t.config, { clock: t.clock, hasher: fastHasher, database: t.database.handle, migrate: false })
    ).app;
    await twin.ready();
  });
  afterAll(async () => {
    await twin?.close();
    await t?.close();
  });

  /**
   * Parallel requests alternate between two instances on one database: no in-process lock can decide the race, only the
   * database.
   */
  const instance = (i: number): Pick<TestApp, 'app'> => ({ app: i % 2 === 0 ? t.app : twin });

  async function totpUser() {
    const session = await signUp(t.app);
    return { ...session, ...(await enableTOTP(t, session)) };
  }

  describe('TOTP', () => {
    it('a TOTP step accepted once is never accepted again', async () => {
      const a = await signUp(t.app);
      const setup = (await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth })).json();
      startOfNextStep(t);
      const setupCode = totpNow(t, setup.secret);
      expect(
        (
          await t.app.inject({
            method: 'POST',
            url: '/api/auth/2fa/verify-setup',
            headers: a.auth,
            payload: { code: setupCode },
          })
        ).statusCode,
      ).toBe(200);
      // The step that verified the setup is spent too.
      const afterSetup = await secondStep(t, await challenge(t, a.username), setupCode);
      expect(afterSetup.statusCode).toBe(401);
      expect(afterSetup.json().error).toBe('invalid_mfa_code');

      nextStep(t);
      const code = totpNow(t, setup.secret);
      expect((await secondStep(t, await challenge(t, a.username), code)).statusCode).toBe(200);
      // Replayed inside its window: on a fresh login, as a one-step login, and on the compatibility route.
      const replay = await secondStep(t, await challenge(t, a.username), code);
      expect(replay.statusCode).toBe(401);
      expect(replay.json().error).toBe('invalid_mfa_code');
      for (const url of ['/api/auth/login', '/login']) {
        const oneStep = await passwordLogin(t, a.username, { totp_code: code }, url);
        expect(oneStep.statusCode).toBe(401);
        expect(oneStep.json().error).toBe('invalid_mfa_code');
      }
      // Ten seconds later the same code is still inside its step: still refused.
      t.clock.advance(10_000);
      expect((await passwordLogin(t, a.username, { totp_code: code })).statusCode).toBe(401);
      // The setup step is still inside the ±1 window, but older than the last one used: refused.
      expect(matchTOTPStep(setup.secret, setupCode, t.clock.now().getTime())).not.toBeNull();
      const previous = await passwordLogin(t, a.username, { totp_code: setupCode });
      expect(previous.statusCode).toBe(401);
      expect(previous.json().error).toBe('invalid_mfa_code');
      // The next step works, once.
      nextStep(t);
      const next = totpNow(t, setup.secret);
      expect((await passwordLogin(t, a.username, { totp_code: next })).statusCode).toBe(200);
      expect((await passwordLogin(t, a.username, { totp_code: next })).statusCode).toBe(401);
    });

    it('ten parallel second steps with one TOTP code give exactly one success', async () => {
      const a = await totpUser();
      const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => challenge(instance(i), a.username)));
      const code = totpNow(t, a.secret);
      const responses = await Promise.all(tokens.map((token, i) => secondStep(instance(i), token, code)));
      expect(outcomes(responses)).toEqual({ 200: 1, '401 invalid_mfa_code': 9 });
      const winner = responses.find((r) => r.statusCode === 200)!.json();
      expect((await claimsOf(t, winner.access_token)).amr).toEqual(['pwd', 'otp']);
    });

    it('ten parallel one-step logins with one TOTP code give exactly one success', async () => {
      const a = await totpUser();
      const code = totpNow(t, a.secret);
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => passwordLogin(instance(i), a.username, { totp_code: code })),
      );
      expect(outcomes(responses)).toEqual({ 200: 1, '401 invalid_mfa_code': 9 });
    });
  });

  describe('backup codes', () => {
    it('once the last backup code is spent, the challenge stops offering backup codes', async () => {
      const a = await totpUser();
      for (const code of a.backupCodes) {
        expect((await secondStep(t, await challenge(t, a.username), code, 'backup_code')).statusCode).toBe(200);
      }
      const login = await passwordLogin(t, a.username);
      expect(login.json().mfa_methods).toEqual(['totp']);
    });

    it('ten parallel logins with one backup code give exactly one success', async () => {
      const a = await totpUser();
      const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => challenge(instance(i), a.username)));
      const code = a.backupCodes[0]!;
      const responses = await Promise.all(
        tokens.map((token, i) => secondStep(instance(i), token, i % 4 < 2 ? code : code.toUpperCase(), 'backup_code')),
      );
      expect(outcomes(responses)).toEqual({ 200: 1, '401 invalid_mfa_code': 9 });
      expect((await t.app.inject({ url: '/api/auth/2fa', headers: a.auth })).json().backup_codes_remaining).toBe(9);
      const used = await t.database.handle.db
        .selectFrom('audit_events')
        .select('type')
        .where('user_id', '=', a.userId)
        .where('type', '=', 'mfa.backup_code_used')
        .execute();
      expect(used).toHaveLength(1);
    });
  });

  describe('mfa_token', () => {
    it('an mfa_token expires after 5 minutes', async () => {
      const a = await totpUser();
      const early = await challenge(t, a.username);
      const late = await challenge(t, a.username);
      t.clock.advance(299_000);
      expect((await secondStep(t, early, totpNow(t, a.secret))).statusCode).toBe(200);
      t.clock.advance(2_000); // 301 s after the password step
      nextStep(t);
      const expired = await secondStep(t, late, totpNow(t, a.secret));
      expect(expired.statusCode).toBe(401);
      expect(expired.json().error).toBe('mfa_token_invalid');
      const send = await sendEmailCode(t, late);
      expect(send.statusCode).toBe(401);
      expect(send.json().error).toBe('mfa_token_invalid');
      // The expired flow did not burn the step: a fresh login takes the same code.
      expect((await secondStep(t, await challenge(t, a.username), totpNow(t, a.secret))).statusCode).toBe(200);
    });

    it('an mfa_token dies after 5 wrong codes', async () => {
      const a = await totpUser();
      const token = await challenge(t, a.username);
      const right = totpNow(t, a.secret);
      for (let i = 1; i <= 5; i++) {
        const wrong = await secondStep(t, token, otherCode(right, i));
        expect(wrong.statusCode).toBe(401);
        expect(wrong.json().error).toBe('invalid_mfa_code');
      }
      const sixth = await secondStep(t, token, right);
      expect(sixth.statusCode).toBe(401);
      expect(sixth.json().error).toBe('mfa_token_invalid');
      // Backup codes do not revive it either.
      expect((await secondStep(t, token, a.backupCodes[0]!, 'backup_code')).json().error).toBe('mfa_token_invalid');
      expect((await secondStep(t, await challenge(t, a.username), right)).statusCode).toBe(200);
    });

    it('a concurrent burst of 20 wrong codes on one mfa_token cannot exceed the budget of 5', async () => {
      const a = await totpUser();
      const token = await challenge(t, a.username);
      const right = totpNow(t, a.secret);
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => secondStep(instance(i), token, otherCode(right, i + 1))),
      );
      const counts = outcomes(responses);
      expect(Object.keys(counts).sort()).toEqual(['401 invalid_mfa_code', '401 mfa_token_invalid']);
      expect(counts['401 invalid_mfa_code']).toBeLessThanOrEqual(5);
      expect(counts['401 invalid_mfa_code']! + counts['401 mfa_token_invalid']!).toBe(20);
      const flows = await t.database.handle.db
        .selectFrom('mfa_flows')
        .select('attempts')
        .where('user_id', '=', a.userId)
        .execute();
      expect(flows.map((f) => f.attempts)).toEqual([counts['401 invalid_mfa_code']]);
      expect((await secondStep(t, token, right)).json().error).toBe('mfa_token_invalid');
    });

    it('an mfa_token is single use', async () => {
      const a = await totpUser();
      const token = await challenge(t, a.username);
      expect((await secondStep(t, token, totpNow(t, a.secret))).statusCode).toBe(200);
      nextStep(t);
      const reused = await secondStep(t, token, totpNow(t, a.secret));
      expect(reused.statusCode).toBe(401);
      expect(reused.json().error).toBe('mfa_token_invalid');
      const withBackup = await secondStep(t, token, a.backupCodes[0]!, 'backup_code');
      expect(withBackup.json().error).toBe('mfa_token_invalid');
    });

    it('an mfa_token is not an access token', async () => {
      const a = await totpUser();
      const token = await challenge(t, a.username);
      for (const url of ['/api/user/me', '/api/auth/2fa', '/api/protected', '/api/auth/sessions']) {
        const response = await t.app.inject({ url, headers: bearer(token) });
        expect(response.statusCode, url).toBe(401);
        expect(response.json().error).toBe('unauthorized');
      }
      const verify = await t.app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token } });
      expect(verify.json().valid).toBe(false);
      const unknown = await secondStep(t, 'not-a-real-mfa-token', totpNow(t, a.secret));
      expect(unknown.json().error).toBe('mfa_token_invalid');
      // It still works for what it is for.
      expect((await secondStep(t, token, totpNow(t, a.secret))).statusCode).toBe(200);
    });
  });

  describe('email codes', () => {
    async function emailUser() {
      const username = uniqueName('mail');
      const email = `${username.toLowerCase()}@example.test`;
      expect((await register(t.app, username, undefined, email)).statusCode).toBe(201);
      const session = { ...(await login(t.app, username)), username };
      await enableEmailCodes(t, session, email, mailbox);
      // Past the 30-second resend pause of the setup code, which is a different purpose anyway.
      t.clock.advance(STEP_MS);
      return { ...session, email };
    }

    /** A login flow plus a freshly mailed code. */
    async function mailedCode(a: { username: string; email: string }): Promise<{ token: string; code: string }> {
      const token = await challenge(t, a.username);
      const sent = await sendEmailCode(t, token);
      expect(sent.statusCode).toBe(202);
      return { token, code: mailbox.latestCode(a.email) };
    }

    it('a spent mfa_token, or one at the instant it expires, cannot ask for another emailed code', async () => {
      const a = await emailUser();
      const spent = await mailedCode(a);
      expect((await secondStep(t, spent.token, spent.code, 'email')).statusCode).toBe(200);
      t.clock.advance(STEP_MS); // past the resend pause: only the spent token can refuse
      const before = mailbox.codeMails(a.email).length;
      const again = await sendEmailCode(t, spent.token);
      expect(again.statusCode).toBe(401);
      expect(again.json().error).toBe('mfa_token_invalid');

      const token = await challenge(t, a.username);
      t.clock.advance(300_000); // exactly its life: an expiry instant is already past (RFC 7519 §4.1.4 reads "exp" so)
      const late = await sendEmailCode(t, token);
      expect(late.statusCode).toBe(401);
      expect(late.json().error).toBe('mfa_token_invalid');
      expect(mailbox.codeMails(a.email)).toHaveLength(before);
    });

    it('an email code expires after 10 minutes', async () => {
      const a = await emailUser();
      const first = await mailedCode(a);
      t.clock.advance(599_000);
      // Still good at 9:59 (on a fresh mfa_token: the first one died after 5 minutes).
      expect((await secondStep(t, await challenge(t, a.username), first.code, 'email')).statusCode).toBe(200);

      const second = await mailedCode(a);
      t.clock.advance(601_000);
      const expired = await secondStep(t, await challenge(t, a.username), second.code, 'email');
      expect(expired.statusCode).toBe(401);
      expect(expired.json().error).toBe('invalid_mfa_code');
    });

    it('an email code is single use', async () => {
      const a = await emailUser();
      const { token, code } = await mailedCode(a);
      const ok = await secondStep(t, token, code, 'email');
      expect(ok.statusCode).toBe(200);
      expect((await claimsOf(t, ok.json().access_token)).amr).toEqual(['pwd', 'otp']);
      const again = await secondStep(t, await challenge(t, a.username), code, 'email');
      expect(again.statusCode).toBe(401);
      expect(again.json().error).toBe('invalid_mfa_code');
    });

    it('an email code dies after 5 wrong tries', async () => {
      const a = await emailUser();
      const { token, code } = await mailedCode(a);
      // Spread over two mfa_tokens, so the code's own budget is what is tested, not the flow's.
      for (let i = 1; i <= 3; i++)
        expect((await secondStep(t, token, otherCode(code, i), 'email')).json().error).toBe('invalid_mfa_code');
      const second = await challenge(t, a.username);
      for (let i = 4; i <= 5; i++)
        expect((await secondStep(t, second, otherCode(code, i), 'email')).json().error).toBe('invalid_mfa_code');
      const right = await secondStep(t, second, code, 'email');
      expect(right.statusCode).toBe(401);
      expect(right.json().error).toBe('invalid_mfa_code');
      // A new code (after the 30-second resend pause) works.
      t.clock.advance(30_000);
      const fresh = await mailedCode(a);
      expect((await secondStep(t, fresh.token, fresh.code, 'email')).statusCode).toBe(200);
    });

    it('a resend replaces the previous email code', async () => {
      const a = await emailUser();
      const { token, code: first } = await mailedCode(a);
      t.clock.advance(30_000);
      expect((await sendEmailCode(t, token)).statusCode).toBe(202);
      const second = mailbox.latestCode(a.email);
      expect(mailbox.codeMails(a.email)).toHaveLength(3); // setup, first, second
      if (second !== first) {
        const old = await secondStep(t, token, first, 'email');
        expect(old.statusCode).toBe(401);
        expect(old.json().error).toBe('invalid_mfa_code');
      }
      expect((await secondStep(t, token, second, 'email')).statusCode).toBe(200);
      const rows = await t.database.handle.db
        .selectFrom('email_codes')
        .select('id')
        .where('user_id', '=', a.userId)
        .where('purpose', '=', 'login')
        .execute();
      expect(rows).toHaveLength(1);
    });

    it('a resend within 30 seconds is 429 too_many_attempts with Retry-After', async () => {
      const a = await emailUser();
      const { token, code } = await mailedCode(a);
      t.clock.advance(10_000);
      const tooSoon = await sendEmailCode(t, token);
      expect(tooSoon.statusCode).toBe(429);
      expect(tooSoon.json().error).toBe('too_many_attempts');
      expect(tooSoon.headers['retry-after']).toBe('20');
      expect(mailbox.codeMails(a.email)).toHaveLength(2);
      // The refused resend left the first code in place.
      expect((await secondStep(t, token, code, 'email')).statusCode).toBe(200);
      t.clock.advance(20_000);
      expect((await sendEmailCode(t, await challenge(t, a.username))).statusCode).toBe(202);
    });
  });
});
