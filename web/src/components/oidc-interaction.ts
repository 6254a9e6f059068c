import { apiGet, apiPost } from '../api/client';
import type { ResponseOf } from '../api/schema';

/**
 * The sign-in step of an OpenID Connect authorization (docs/oidc.md, "Signing a person in"): what the page reads and
 * how it answers. Every call also carries the provider's interaction cookie (HttpOnly, path /api/oidc/interaction/),
 * which only the browser that started the authorization holds.
 */
export type Interaction = ResponseOf<'/api/oidc/interaction/{uid}', 'get'>;

export const readInteraction = (uid: string): Promise<Interaction> =>
  apiGet('/api/oidc/interaction/{uid}', { params: { uid }, retry: false });

/**
 * Hands the session's access token over. A 403 `reauth_required` (prompt=login, max_age, acr_values=mfa) goes
 * through the client's hook: the "Confirm it's you" dialog opens and the call is sent again with the new token.
 */
export const submitLogin = async (uid: string): Promise<string> =>
  (await apiPost('/api/oidc/interaction/{uid}/login', { params: { uid }, body: {} })).redirect_to;

export const submitConsent = async (uid: string): Promise<string> =>
  (await apiPost('/api/oidc/interaction/{uid}/consent', { params: { uid }, body: {} })).redirect_to;

/** Cancel or Deny: the application receives `error=access_denied` (RFC 6749 §4.1.2.1). No token is needed. */
export const submitAbort = async (uid: string): Promise<string> =>
  (await apiPost('/api/oidc/interaction/{uid}/abort', { params: { uid }, body: {}, retry: false })).redirect_to;

/**
 * Leaves for where the provider resumes the authorization. Only a web address: the answer is the server's own,
 * but a `javascript:` URL must never reach location.assign, whatever sent it.
 */
export function continueTo(redirectTo: string): void {
  const target = new URL(redirectTo, window.location.href);
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new Error('Not a web address');
  window.location.assign(target.href);
}

/** The application as people know it: its name, or its client_id when it was registered without one. */
export const applicationName = (interaction: Interaction): string =>
  interaction.client.client_name?.trim() || interaction.client.client_id;

/** The OpenID Connect scopes Twofold offers (docs/oidc.md), and what each gives the application. */
const SCOPES = new Map<string, string>([
  ['openid', 'Who you are: an identifier for your Twofold account'],
  ['profile', 'Your username'],
  ['email', 'Your email address, and whether it is verified'],
  ['roles', 'Your role in Twofold'],
  ['offline_access', 'Keep access while you are away, without asking you again'],
]);

/** A requested scope in plain words; any other scope is an API permission (OIDC_SCOPES), shown by its name. */
export const describeScope = (scope: string): string => SCOPES.get(scope) ?? `Permission: ${scope}`;
