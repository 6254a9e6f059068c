import type { Clock } from '../../lib/clock.js';
import { hmacHex } from '../../lib/crypto.js';
import { canonicalEmail } from '../accounts/email-address.js';
import type { CounterStore } from './counter-store.js';

/**
 * At most `perHour` mails of each kind (below) to one address per hour, whoever asks and from
 * whichever IP: per-IP limits alone let a botnet flood one inbox (OWASP Forgot Password Cheat
 * Sheet and Authentication Cheat Sheet: protect the mail-sending endpoints against abuse). Counted
 * in the shared counter store (database, or Redis), so every instance shares the budget.
 */
export const MAIL_PER_ADDRESS_PER_HOUR = 5;
const WINDOW_MS = 3600_000;

/**
 * Which hourly budget a mail spends. `reset_link`: password reset links, and `verify_link`:
 * verification links, which anyone who knows the address can ask for; each has its own budget, so
 * a stranger spamming "forgot password" for an address cannot hold back that person's verification
 * link (and the other way round). `email_change`: the link to a new address and the notice to the
 * old one, asked for by a signed-in person. `code`: sign-in codes, which only someone holding the
 * password (an mfa_token) can ask for. `session_code`: set-up and step-up codes, asked for with an
 * access token. Kept apart so that neither a stranger spending one budget nor a thief holding only
 * an access token can stop the owner receiving the mail they need (OWASP Authentication Cheat
 * Sheet: anti-automation must not let an attacker lock the owner out; NIST SP 800-63B §5.2.2).
 * `proof_code`: stand-alone email codes (POST /generate-2fa), which anyone who knows the address
 * can ask for; apart from the links so that flooding them cannot hold back the owner's reset link.
 */
export type MailKind = 'reset_link' | 'verify_link' | 'email_change' | 'code' | 'session_code' | 'proof_code';

export interface MailQuota {
  /**
   * Counts one mail of `kind` to `address`; `allowed` is false once the hour's budget for that kind
   * is spent, with the seconds until one more would be allowed.
   */
  take(address: string, kind: MailKind): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}

export function createMailQuota(deps: {
  store: CounterStore;
  clock: Clock;
  key: Uint8Array;
  perHour?: number;
}): MailQuota {
  const limit = deps.perHour ?? MAIL_PER_ADDRESS_PER_HOUR;
  return {
    async take(address, kind) {
      // A keyed hash of the canonical address: the counter store (a table, or Redis) never holds
      // an address, and without the key its entries cannot be tested against a list of addresses.
      const key = `mail:${kind}:${hmacHex(deps.key, canonicalEmail(address))}`;
      const nowMs = deps.clock.now().getTime();
      const windowIndex = Math.floor(nowMs / WINDOW_MS);
      const elapsed = (nowMs - windowIndex * WINDOW_MS) / WINDOW_MS;
      const counts = await deps.store.hit(key, windowIndex, WINDOW_MS, nowMs);
      // Sliding window approximated from two fixed ones, as the per-IP limits do (rate-limit.ts).
      const estimate = counts.previous * (1 - elapsed) + counts.current;
      if (estimate <= limit) return { allowed: true, retryAfterSeconds: 0 };
      // In the next window the estimate is current·(1 − f) + 1: one more mail fits once f ≥ 1 − (limit − 1) / current.
      const fraction = Math.max(0, 1 - (limit - 1) / Math.max(counts.current, 1));
      const retryAfterMs = (windowIndex + 1) * WINDOW_MS - nowMs + fraction * WINDOW_MS;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
    },
  };
}
