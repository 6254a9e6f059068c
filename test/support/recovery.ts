import type { LightMyRequestResponse } from 'fastify';
import { vi } from 'vitest';
import type { Dialect } from '../../src/db/create-database.js';
import { PASSWORD, buildTestApp, login, register, uniqueName, type Session, type TestApp } from './app.js';
import { startMailbox, type Mailbox, type ReceivedMail } from './mailbox.js';

export const RESET_SUBJECT = /^Reset your .+ password$/;
export const VERIFY_SUBJECT = /^Confirm your email address for /;
export const NEW_PASSWORD = 'a completely different passphrase';

/**
 * A real SMTP server and an app that mails to it. `close()` closes the app first, so the mails it
 * still sends in the background reach the mailbox, then the mailbox.
 */
export async function startMailApp(
  options: { dialect?: Dialect; env?: Record<string, string> } = {},
): Promise<{ t: TestApp; mailbox: Mailbox; close(): Promise<void> }> {
  const mailbox = await startMailbox();
  const t = await buildTestApp({ dialect: options.dialect, env: { SMTP_URL: mailbox.url, ...options.env } });
  return {
    t,
    mailbox,
    close: async () => {
      await t.close();
      await mailbox.close();
    },
  };
}

/** 32 random bytes, base64url. */
const TOKEN = /[A-Za-z0-9_-]{43}/;

/**
 * The `count`-th message to `address` whose subject matches. Reset and verification mails are sent
 * after the response (so their timing reveals nothing): wait for the SMTP server to receive it.
 */
export async function waitForMail(
  mailbox: Mailbox,
  address: string,
  subject: RegExp,
  count = 1,
): Promise<ReceivedMail> {
  return vi.waitFor(
    () => {
      const mail = mailbox.to(address).filter((m) => subject.test(m.subject))[count - 1];
      if (!mail) throw new Error(`waiting for mail #${count} to ${address} matching ${subject}`);
      return mail;
    },
    { timeout: 10_000, interval: 10 },
  );
}

/** The token from the link in the text part. */
export function tokenFrom(mail: ReceivedMail): string {
  const fromLink = new RegExp(`\\?token=(${TOKEN.source})`).exec(mail.text ?? '')?.[1];
  if (!fromLink) throw new Error(`no token in mail "${mail.subject}": ${mail.text}`);
  return fromLink;
}

export function forgot(t: TestApp, email: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email } });
}

export function resetPassword(t: TestApp, token: string, newPassword = NEW_PASSWORD): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/password/reset',
    payload: { token, new_password: newPassword },
  });
}

export function verifyEmail(t: TestApp, token: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/auth/email/verify', payload: { token } });
}

export function resendVerification(t: TestApp, email: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/auth/email/verify/resend', payload: { email } });
}

export function tryLogin(t: TestApp, username: string, password = PASSWORD): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
}

export interface MailUser {
  username: string;
  email: string;
  userId: number;
}

/** Registers a user with a fresh email address (which mails a verification link). */
export async function registerWithEmail(t: TestApp): Promise<MailUser> {
  const username = uniqueName('rec');
  const email = `${username.toLowerCase()}@example.com`;
  const created = await register(t.app, username, PASSWORD, email);
  if (created.statusCode !== 201) throw new Error(`register failed: ${created.body}`);
  return { username, email, userId: created.json().id as number };
}

/** Registers a user with an email address and signs in. */
export async function signUpWithEmail(t: TestApp): Promise<MailUser & Session> {
  const user = await registerWithEmail(t);
  return { ...user, ...(await login(t.app, user.username)) };
}

/** A signed-in password change from PASSWORD to `newPassword`. */
export function changePassword(
  t: TestApp,
  auth: { authorization: string },
  newPassword = NEW_PASSWORD,
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/password/change',
    headers: auth,
    payload: { current_password: PASSWORD, new_password: newPassword },
  });
}

/** The hashes of the user's unused links of one kind, as stored (expired ones included). */
export async function unusedLinks(
  t: TestApp,
  userId: number,
  purpose: 'password_reset' | 'email_verify',
): Promise<string[]> {
  const rows = await t.database.handle.db
    .selectFrom('account_tokens')
    .select('token_hash')
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
  return rows.map((row) => row.token_hash);
}

/** Asks for a reset link and returns the token from the `count`-th reset mail. */
export async function resetToken(t: TestApp, mailbox: Mailbox, email: string, count = 1): Promise<string> {
  const response = await forgot(t, email);
  if (response.statusCode !== 202) throw new Error(`forgot failed: ${response.body}`);
  return tokenFrom(await waitForMail(mailbox, email, RESET_SUBJECT, count));
}
