import { browserSupportsWebAuthn } from '@simplewebauthn/browser';
import { ApiError } from '../api/client';
import { errorMessage } from '../api/errors';

/** True when this browser can create and use passkeys at all (the Web Authentication API exists). */
export function passkeysSupported(): boolean {
  return browserSupportsWebAuthn();
}

/** Shown instead of the passkey buttons when the browser has no Web Authentication API. */
export const UNSUPPORTED = 'This browser cannot use passkeys. Use a recent Chrome, Edge, Firefox or Safari.';

/**
 * What to tell the person when a passkey ceremony fails. The browser reports why by the error's
 * name (W3C WebAuthn Level 3, §5.1.3 and §5.1.4): NotAllowedError stands for "the person
 * cancelled" and "the authenticator did not answer in time" alike, which the spec keeps
 * indistinguishable on purpose so a page cannot learn which credentials exist (§14.5 privacy);
 * InvalidStateError means the authenticator already holds one of `excludeCredentials`. A refusal
 * by the server is one of the API's error codes.
 */
export function passkeyErrorMessage(e: unknown, during: 'register' | 'sign-in' | 'second-step' | 'reauth'): string {
  if (e instanceof ApiError) {
    if (during === 'sign-in' && e.code === 'invalid_credentials')
      return 'That passkey was not accepted. Try another one, or sign in with your password.';
    // The second step refuses a passkey as it refuses a wrong code.
    if (during === 'second-step' && e.code === 'invalid_mfa_code')
      return 'That passkey was not accepted. Try another one, or choose another way to confirm.';
    if (during === 'reauth' && e.code === 'invalid_credentials')
      return 'That passkey was not accepted. Try another one, or enter your password.';
    if (during === 'register' && e.code === 'validation_failed')
      return 'The server did not accept this passkey. Try again.';
    return errorMessage(e);
  }
  const name = errorName(e);
  if (name === 'NotAllowedError' || name === 'AbortError') return 'Cancelled, or the device did not answer.';
  if (name === 'InvalidStateError') return 'This device already has a passkey for this account.';
  if (name === 'SecurityError') return 'This browser refused to use a passkey on this address.';
  return 'Your browser could not use a passkey. Try again, or use another device.';
}

/** The name of what a ceremony threw; a DOMException is not an Error everywhere (jsdom's is not). */
export function errorName(e: unknown): string {
  const name = typeof e === 'object' && e !== null ? (e as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : '';
}
