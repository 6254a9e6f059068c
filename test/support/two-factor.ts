import type { LightMyRequestResponse } from 'fastify';
import { TOTP_PERIOD_SECONDS, generateTOTP } from '../../src/modules/two-factor/totp.js';
import { PASSWORD, type Session, type TestApp } from './app.js';
import type { Mailbox } from './mailbox.js';

export const STEP_MS = TOTP_PERIOD_SECONDS * 1000;

export function bearer(accessToken: string): { authorization: string } {
  return { authorization: `Bearer ${accessToken}` };
}

/** What an authenticator app shows now, by the app's clock. */
export function totpNow(t: TestApp, secret: string): string {
  return generateTOTP(secret, t.clock.now().getTime());
}

/** Moves the clock into the next TOTP step: each step is accepted once, so a new login needs a new step. */
export function nextStep(t: TestApp): void {
  t.clock.advance(STEP_MS);
}

/** Moves the clock to the first millisecond of the next TOTP step, for tests that care where in a step they are. */
export function startOfNextStep(t: TestApp): void {
  const now = t.clock.now().getTime();
  t.clock.set(new Date((Math.floor(now / STEP_MS) + 1) * STEP_MS));
}

/** A six-digit code that is not `code`. */
export function otherCode(code: string, offset = 1): string {
  return String((Number(code) + offset) % 1_000_000).padStart(6, '0');
}

/** Setup and verify-setup as a user with an authenticator app would; the clock is left in a fresh step. */
export async function enableTOTP(t: TestApp, session: Session): Promise<{ secret: string; backupCodes: string[] }> {
  const setup = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: session.auth });
  if (setup.statusCode !== 200) throw new Error(`setup failed: ${setup.body}`);
  const { secret } = setup.json() as { secret: string };
  const verified = await t.app.inject({
    method: 'POST',
    url: '/api/auth/2fa/verify-setup',
    headers: session.auth,
    payload: { code: totpNow(t, secret) },
  });
  if (verified.statusCode !== 200) throw new Error(`verify-setup failed: ${verified.body}`);
  nextStep(t);
  return { secret, backupCodes: verified.json().backup_codes as string[] };
}

export interface AddedAuthenticator {
  id: number;
  secret: string;
  /** Only when verify-setup answered new ones (the first app, or none were left). */
  backupCodes: string[] | undefined;
}

/**
 * Adds one authenticator app (setup, then verify-setup with the app's code), named `name` when
 * given; the clock is left in a fresh step. Works whether or not TOTP is already on.
 */
export async function addAuthenticator(t: TestApp, session: Session, name?: string): Promise<AddedAuthenticator> {
  const setup = await t.app.inject({
    method: 'POST',
    url: '/api/auth/2fa/setup',
    headers: session.auth,
    ...(name === undefined ? {} : { payload: { name } }),
  });
  if (setup.statusCode !== 200) throw new Error(`setup failed: ${setup.body}`);
  const { secret } = setup.json() as { secret: string };
  const verified = await t.app.inject({
    method: 'POST',
    url: '/api/auth/2fa/verify-setup',
    headers: session.auth,
    payload: { code: totpNow(t, secret) },
  });
  if (verified.statusCode !== 200) throw new Error(`verify-setup failed: ${verified.body}`);
  nextStep(t);
  const listed = await t.app.inject({ url: '/api/auth/2fa/authenticators', headers: session.auth });
  const items = listed.json().authenticators as Array<{ id: number }>;
  return {
    id: Math.max(...items.map((item) => item.id)),
    secret,
    backupCodes: verified.json().backup_codes as string[] | undefined,
  };
}

/** Turns on email codes with the code read from the mailbox. */
export async function enableEmailCodes(
  t: TestApp,
  session: Session,
  email: string,
  mailbox: Mailbox,
): Promise<{ backupCodes: string[] | undefined }> {
  const started = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/enable', headers: session.auth });
  if (started.statusCode !== 202) throw new Error(`email/enable failed: ${started.body}`);
  const code = mailbox.latestCode(email);
  const verified = await t.app.inject({
    method: 'POST',
    url: '/api/auth/2fa/email/verify-setup',
    headers: session.auth,
    payload: { code },
  });
  if (verified.statusCode !== 200) throw new Error(`email/verify-setup failed: ${verified.body}`);
  return { backupCodes: verified.json().backup_codes as string[] | undefined };
}

export function passwordLogin(
  t: Pick<TestApp, 'app'>,
  username: string,
  extra: Record<string, string> = {},
  url = '/api/auth/login',
): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url, payload: { username, password: PASSWORD, ...extra } });
}

/** The password step of a user with 2FA: its mfa_token. */
export async function challenge(t: Pick<TestApp, 'app'>, username: string): Promise<string> {
  const response = await passwordLogin(t, username);
  const body = response.json();
  if (response.statusCode !== 200 || body.mfa_required !== true)
    throw new Error(`expected an mfa_challenge: ${response.body}`);
  return body.mfa_token as string;
}

export function secondStep(
  t: Pick<TestApp, 'app'>,
  mfaToken: string,
  code: string,
  method?: 'totp' | 'email' | 'backup_code',
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/2fa/login',
    payload: { mfa_token: mfaToken, code, ...(method ? { method } : {}) },
  });
}

export function sendEmailCode(t: TestApp, mfaToken: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/auth/2fa/email/send', payload: { mfa_token: mfaToken } });
}

/** The claims of an access token, as POST /api/auth/token/verify reports them. */
export async function claimsOf(t: TestApp, accessToken: string): Promise<Record<string, unknown>> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/auth/token/verify',
    payload: { token: accessToken },
  });
  const body = response.json();
  if (body.valid !== true) throw new Error(`token not valid: ${response.body}`);
  return body.claims as Record<string, unknown>;
}

export interface AuditRowView {
  type: string;
  user_id: number | null;
  detail: string;
  ip: string | null;
  user_agent: string | null;
}

export async function auditRows(t: TestApp, userId: number): Promise<AuditRowView[]> {
  return t.database.handle.db
    .selectFrom('audit_events')
    .select(['type', 'user_id', 'detail', 'ip', 'user_agent'])
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
}

/** How many responses carry each `status error` (or just the status on success). */
export function outcomes(responses: LightMyRequestResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of responses) {
    const key = r.statusCode === 200 ? '200' : `${r.statusCode} ${(r.json() as { error?: string }).error}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
