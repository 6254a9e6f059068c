import { hmacHex } from '../../lib/crypto.js';

/** The relying party (config `webauthn`): RP ID, the name authenticators show, the origins allowed to sign. */
export interface RelyingParty {
  rpId: string;
  rpName: string;
  origins: readonly string[];
}

/** A ceremony's challenge lives 5 minutes (W3C WebAuthn Level 3, §15.1: 300 s and up when UV is preferred). */
export const CHALLENGE_TTL_SECONDS = 300;

/** At most this many passkeys per user. */
export const MAX_PASSKEYS = 20;

export const DEFAULT_PASSKEY_NAME = 'Passkey';

/**
 * ES256 (-7), EdDSA (-8), RS256 (-257): what platform and roaming authenticators implement (WebAuthn
 * Level 3, §5.8.5 recommends offering ES256 and RS256 at least), ES256 first as the most common.
 */
export const SUPPORTED_ALGORITHMS = [-7, -8, -257];

/** The challenge a client signed, read from its clientDataJSON (base64url JSON, §5.8.1); undefined when unreadable. */
export function challengeOf(clientDataJSON: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    const challenge = (parsed as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === 'string' && challenge.length > 0 && challenge.length <= 128 ? challenge : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The signature counter check (WebAuthn Level 3, §7.2 step 22): when either the stored or the new
 * count is non-zero, the new one must be greater; otherwise the credential may have been cloned.
 * Authenticators that do not count (synced passkeys) report 0 every time and pass.
 */
export function counterWentBackwards(stored: number, received: number): boolean {
  return (stored !== 0 || received !== 0) && received <= stored;
}

/**
 * The WebAuthn user handle of a user: 16 opaque bytes derived from the id, never the name or address
 * (W3C WebAuthn Level 3, §14.6.1: the handle must not contain personal information).
 */
export function userHandleOf(key: Uint8Array, userId: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(hmacHex(key, `user:${userId}`).slice(0, 32), 'hex'));
}

/** The transports stored with a credential (a JSON array of strings); none when unreadable. */
export function transportsOf(row: { transports: string }): string[] {
  try {
    const parsed: unknown = JSON.parse(row.transports);
    return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}
