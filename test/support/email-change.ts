import type { LightMyRequestResponse } from 'fastify';
import { uniqueName, type TestApp } from './app.js';
import type { Mailbox } from './mailbox.js';
import { tokenFrom, waitForMail } from './recovery.js';

export const CHANGE_SUBJECT = /^Confirm your new email address for /;
export const NOTICE_SUBJECT = /email address is being changed$/;

/** A fresh address no account has. */
export function freshAddress(prefix = 'new'): string {
  return `${uniqueName(prefix).toLowerCase()}@example.com`;
}

export function requestChange(
  t: TestApp,
  auth: { authorization: string },
  payload: Record<string, unknown>,
): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/auth/email/change', headers: auth, payload });
}

export function pendingEmail(t: TestApp, auth: { authorization: string }): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'GET', url: '/api/auth/email/pending', headers: auth });
}

/** Asks to change the address to `email` and returns the token from the `count`-th link mailed there. */
export async function changeToken(
  t: TestApp,
  mailbox: Mailbox,
  auth: { authorization: string },
  email: string,
  count = 1,
): Promise<string> {
  const response = await requestChange(t, auth, { email });
  if (response.statusCode !== 202) throw new Error(`email change failed: ${response.body}`);
  return tokenFrom(await waitForMail(mailbox, email, CHANGE_SUBJECT, count));
}
