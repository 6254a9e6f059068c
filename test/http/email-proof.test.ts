import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { codeFrom, type Mailbox } from '../support/mailbox.js';
import { registerWithEmail, signUpWithEmail, startMailApp, waitForMail } from '../support/recovery.js';
import { challenge, enableEmailCodes, otherCode, secondStep, sendEmailCode } from '../support/two-factor.js';

/**
 * Stand-alone email codes (the email-code app's POST /generate-2fa and POST /verify): 6 digits,
 * 10 minutes, single use, 5 tries, stored hashed, 5 mails per address per hour, 202 for every
 * address; a proven address of an account is marked verified.
 */

const dialects = await testDialects();
const PROOF_SUBJECT = /code to confirm this address$/;
const MINUTE_MS = 60_000;
const INVALID = { error: 'invalid_mfa_code', message: expect.any(String) };

let agents = 0;
/** A user agent per request, so the test can find that request's audit events among the others. */
function agent(): string {
  agents += 1;
  return `email-proof-test/${agents}-${Math.random().toString(36).slice(2, 8)}`;
}

function strangerAddress(): string {
  return `${uniqueName('stranger').toLowerCase()}@example.org`;
}

function generate(t: TestApp, email: string, userAgent = agent()): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/generate-2fa',
    headers: { 'user-agent': userAgent },
    payload: { email },
  });
}

function verify(t: TestApp, email: string, code: string, userAgent = agent()): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/verify',
    headers: { 'user-agent': userAgent },
    payload: { email, code },
  });
}

/** The audit event the background work of the request sent with `userAgent` wrote (its outcome). */
async function outcomeOf(
  t: TestApp,
  userAgent: string,
): Promise<{ type: string; user_id: number | null; detail: Record<string, unknown> }> {
  return vi.waitFor(
    async () => {
      const row = await t.database.handle.db
        .selectFrom('audit_events')
        .select(['type', 'user_id', 'detail'])
        .where('user_agent', '=', userAgent)
        .executeTakeFirst();
      if (!row) throw new Error(`no audit event yet for ${userAgent}`);
      return { type: row.type, user_id: row.user_id, detail: JSON.parse(row.detail) as Record<string, unknown> };
    },
    { timeout: 10_000, interval: 10 },
  );
}

/** Asks for a code and returns it from the `count`-th code mail to the address. */
async function codeFor(t: TestApp, mailbox: Mailbox, email: string, count = 1): Promise<string> {
  const response = await generate(t, email);
  expect(response.statusCode, response.body).toBe(202);
  return codeFrom(await waitForMail(mailbox, email, PROOF_SUBJECT, count));
}

describe.each(dialects)('stand-alone email codes on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ t, mailbox, close } = await startMailApp({ dialect }));
  });
  afterAll(async () => close?.());

  it("an account's address gets a code; the code proves it (200) and marks the address verified", async () => {
    const user = await registerWithEmail(t);
    const userAgent = agent();
    const asked = await generate(t, user.email.toUpperCase(), userAgent);
    expect(asked.statusCode).toBe(202);
    expect(asked.json()).toEqual({ accepted: true });
    const mail = await waitForMail(mailbox, user.email, PROOF_SUBJECT);
    expect(mail.text).toMatch(/expires in 10 minutes and works once/);
    expect(await outcomeOf(t, userAgent)).toMatchObject({ type: 'email_proof.issued', user_id: user.userId });

    const verified = await verify(t, user.email, codeFrom(mail));
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toEqual({ verified: true });
    expect(verified.headers['cache-control']).toBe('no-store');
    const row = await t.database.handle.db
      .selectFrom('users')
      .select('email_verified')
      .where('id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(row.email_verified).toBe(1);
    const events = await t.database.handle.db
      .selectFrom('audit_events')
      .select(['type', 'detail'])
      .where('user_id', '=', user.userId)
      .where('type', '=', 'email_proof.verified')
      .execute();
    expect(events.map((e) => JSON.parse(e.detail))).toEqual([
      expect.objectContaining({ account: true, email_verified_now: true }),
    ]);
  });

  it('an address without an account: the same 202, no mail, and a check of it takes the same path as a wrong code', async () => {
    const known = await registerWithEmail(t);
    const stranger = strangerAddress();
    const userAgent = agent();
    const [forStranger, forKnown] = [await generate(t, stranger, userAgent), await generate(t, known.email)];
    expect(forStranger.statusCode).toBe(202);
    expect(forStranger.body).toBe(forKnown.body);
    expect(await outcomeOf(t, userAgent)).toMatchObject({
      type: 'email_proof.not_sent',
      user_id: null,
      detail: { reason: 'no_account', account: false },
    });
    const knownCode = codeFrom(await waitForMail(mailbox, known.email, PROOF_SUBJECT));
    expect(mailbox.to(stranger)).toEqual([]);

    // The stranger's address holds a code that matches nothing, so guessing it is the same work
    // (find, count the try, compare) as guessing wrong for an account's address: nothing in the
    // answer or its timing tells the two apart.
    const [strangerAgent, knownAgent] = [agent(), agent()];
    const guessed = await verify(t, stranger, '123456', strangerAgent);
    const wrong = await verify(t, known.email, otherCode(knownCode), knownAgent);
    expect(guessed.statusCode).toBe(401);
    expect(guessed.body).toBe(wrong.body);
    expect(await outcomeOf(t, strangerAgent)).toMatchObject({
      type: 'email_proof.failed',
      detail: { reason: 'wrong_code' },
    });
    expect(await outcomeOf(t, knownAgent)).toMatchObject({
      type: 'email_proof.failed',
      detail: { reason: 'wrong_code' },
    });
    const never = await verify(t, strangerAddress(), '123456', strangerAgent.replace(/\/.*/, '/never-asked'));
    expect(never.json()).toEqual(INVALID);
  });

  it('a malformed address is 400 validation_failed on both routes', async () => {
    for (const email of ['not-an-address', 'two@at@example.com', 'space in@example.com', '']) {
      const asked = await generate(t, email);
      expect(asked.statusCode, email).toBe(400);
      expect(asked.json()).toMatchObject({ error: 'validation_failed', fields: { email: expect.any(String) } });
      expect((await verify(t, email, '123456')).json()).toMatchObject({ error: 'validation_failed' });
    }
  });

  it('five wrong codes kill the code: the right one then fails like any other', async () => {
    const user = await registerWithEmail(t);
    const code = await codeFor(t, mailbox, user.email);
    for (let i = 0; i < 5; i++) {
      const wrong = await verify(t, user.email, i === 0 ? 'abc' : otherCode(code));
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toEqual(INVALID);
    }
    const right = await verify(t, user.email, code);
    expect(right.statusCode).toBe(401);
    expect(right.json()).toEqual(INVALID);
  });

  it('four wrong codes leave the right one working', async () => {
    const user = await registerWithEmail(t);
    const code = await codeFor(t, mailbox, user.email);
    for (let i = 0; i < 4; i++) expect((await verify(t, user.email, otherCode(code))).statusCode).toBe(401);
    expect((await verify(t, user.email, code)).statusCode).toBe(200);
  });

  it('a code lives 10 minutes', async () => {
    const user = await registerWithEmail(t);
    const code = await codeFor(t, mailbox, user.email);
    t.clock.advance(10 * MINUTE_MS);
    const late = await verify(t, user.email, code);
    expect(late.statusCode).toBe(401);
    expect(late.json()).toEqual(INVALID);
  });

  it('a code works once', async () => {
    const user = await registerWithEmail(t);
    const code = await codeFor(t, mailbox, user.email);
    expect((await verify(t, user.email, code)).statusCode).toBe(200);
    const again = await verify(t, user.email, code);
    expect(again.statusCode).toBe(401);
    expect(again.json()).toEqual(INVALID);
  });

  it('a new code replaces the pending one', async () => {
    const user = await registerWithEmail(t);
    const first = await codeFor(t, mailbox, user.email, 1);
    let second = await codeFor(t, mailbox, user.email, 2);
    // One time in a million the new code is the old one; a third draw settles it.
    if (second === first) second = await codeFor(t, mailbox, user.email, 3);
    expect((await verify(t, user.email, first)).statusCode).toBe(401);
    expect((await verify(t, user.email, second)).statusCode).toBe(200);
  });

  it('two requests with the right code at once: exactly one is 200', async () => {
    for (let round = 0; round < 3; round++) {
      const user = await registerWithEmail(t);
      const code = await codeFor(t, mailbox, user.email);
      const answers = await Promise.all([
        verify(t, user.email, code),
        verify(t, user.email, code),
        verify(t, user.email, code),
      ]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 401, 401]);
      const rows = await t.database.handle.db
        .selectFrom('audit_events')
        .select('type')
        .where('user_id', '=', user.userId)
        .where('type', '=', 'email_proof.verified')
        .execute();
      expect(rows).toHaveLength(1);
    }
  });

  it('at most 5 code mails per address per hour; the sixth request still answers 202 and sends nothing', async () => {
    const user = await registerWithEmail(t);
    for (let i = 1; i <= 5; i++) await codeFor(t, mailbox, user.email, i);
    const userAgent = agent();
    const sixth = await generate(t, user.email, userAgent);
    expect(sixth.statusCode).toBe(202);
    expect(sixth.json()).toEqual({ accepted: true });
    expect(await outcomeOf(t, userAgent)).toMatchObject({
      type: 'email_proof.not_sent',
      user_id: user.userId,
      detail: { reason: 'mail_quota' },
    });
    expect(mailbox.to(user.email).filter((m) => PROOF_SUBJECT.test(m.subject))).toHaveLength(5);
    // The fifth code still works: the refused request replaced nothing.
    const fifth = codeFrom(mailbox.to(user.email).filter((m) => PROOF_SUBJECT.test(m.subject))[4]!);
    expect((await verify(t, user.email, fifth)).statusCode).toBe(200);
  });

  it('a stand-alone code is no second factor, and a sign-in code proves no address: each works only where it was issued', async () => {
    const user = await signUpWithEmail(t);
    await enableEmailCodes(t, user, user.email, mailbox);
    const mfaToken = await challenge(t, user.username);
    expect((await sendEmailCode(t, mfaToken)).statusCode).toBe(202);
    const signInCode = mailbox.latestCode(user.email);
    const proofCode = await codeFor(t, mailbox, user.email);
    if (proofCode === signInCode) return; // one time in a million the two draws agree: nothing to tell apart
    expect((await secondStep(t, mfaToken, proofCode, 'email')).statusCode).toBe(401);
    expect((await verify(t, user.email, signInCode)).statusCode).toBe(401);
    expect((await verify(t, user.email, proofCode)).statusCode).toBe(200);
    const signedIn = await secondStep(t, mfaToken, signInCode, 'email');
    expect(signedIn.statusCode, signedIn.body).toBe(200);
  });

  it('the table holds neither the code nor the address, only keyed hashes; expired rows are swept', async () => {
    const user = await registerWithEmail(t);
    const code = await codeFor(t, mailbox, user.email);
    const rows = await t.database.handle.db.selectFrom('email_proofs').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.address_key).toMatch(/^[0-9a-f]{64}$/);
      expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
      const text = JSON.stringify(row);
      expect(text).not.toContain(code);
      expect(text.toLowerCase()).not.toContain(user.email.split('@')[0]);
    }
    // Once expired, the row goes at a later issue (sweeps run at most once a minute).
    t.clock.advance(11 * MINUTE_MS);
    const other = await registerWithEmail(t);
    await codeFor(t, mailbox, other.email);
    const left = await t.database.handle.db.selectFrom('email_proofs').select('expires_at').execute();
    expect(left.every((row) => Number(row.expires_at) > t.clock.now().getTime())).toBe(true);
    expect((await verify(t, user.email, code)).statusCode).toBe(401);
  });
});

describe.each(dialects)('stand-alone email codes for anyone (EMAIL_CODES_FOR_ANYONE=true) on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ t, mailbox, close } = await startMailApp({ dialect, env: { EMAIL_CODES_FOR_ANYONE: 'true' } }));
  });
  afterAll(async () => close?.());

  it('an address without an account gets a code, and the code proves it', async () => {
    const stranger = strangerAddress();
    const userAgent = agent();
    const asked = await generate(t, stranger, userAgent);
    expect(asked.statusCode).toBe(202);
    expect(asked.json()).toEqual({ accepted: true });
    const code = codeFrom(await waitForMail(mailbox, stranger, PROOF_SUBJECT));
    expect(await outcomeOf(t, userAgent)).toMatchObject({
      type: 'email_proof.issued',
      user_id: null,
      detail: { account: false },
    });
    expect((await verify(t, stranger, otherCode(code))).statusCode).toBe(401);
    const verified = await verify(t, stranger, code);
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toEqual({ verified: true });
  });
});
