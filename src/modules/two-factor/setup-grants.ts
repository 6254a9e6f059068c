import type { Clock } from '../../lib/clock.js';
import { hmacHex } from '../../lib/crypto.js';
import { unknownIfAccountGone } from '../accounts/account-gone.js';
import type { FirstFactor } from './login-challenges.js';
import { hasSecondFactor } from './require-2fa.js';
import type { TwoFactorRepository } from './two-factor.repository.js';

/** A set-up token lives 10 minutes: time to install an authenticator app or read a mail. */
export const SETUP_TOKEN_TTL_SECONDS = 600;

/**
 * The grant a set-up token carries (REQUIRE_2FA, docs/security.md "Required second factor"): a sign-in
 * whose password was right but whose account must first set up a second factor. It is a row of
 * mfa_flows, like a login challenge, so it dies with the account, with an administrator's 2FA reset and
 * when it is completed; completing it is one guarded UPDATE, so of two requests only one opens a session.
 *
 * The grant id is the token's `jti`, which the token's holder can read. The row is found by a keyed
 * hash of it under its own prefix, never by the SHA-256 a login challenge's mfa_token is found by: the
 * id sent as an mfa_token to POST /api/auth/2fa/login finds nothing.
 */
export interface SetupGrants {
  /**
   * A grant for the account; the id goes into the set-up token's `jti`. `invalid_credentials` when
   * the account was deleted meanwhile (account-gone.ts).
   */
  openSetupGrant(userId: number, grantId: string, firstFactor?: FirstFactor): Promise<{ expiresIn: number }>;
  /** Whether the grant is the user's, unexpired, not yet completed, and the account still has no second factor. */
  isSetupGrantLive(grantId: string, userId: number): Promise<boolean>;
  /** Single use: true for exactly one caller, who then opens the session. */
  completeSetupGrant(grantId: string): Promise<boolean>;
}

export function createSetupGrants(repository: TwoFactorRepository, clock: Clock, hashKey: Uint8Array): SetupGrants {
  const rowKey = (grantId: string): string => hmacHex(hashKey, `mfa_setup:${grantId}`);
  return {
    async openSetupGrant(userId, grantId, firstFactor = 'pwd') {
      const now = clock.now().getTime();
      await unknownIfAccountGone(
        repository.insertFlow(rowKey(grantId), userId, now, now + SETUP_TOKEN_TTL_SECONDS * 1000, firstFactor),
      );
      return { expiresIn: SETUP_TOKEN_TTL_SECONDS };
    },
    async isSetupGrantLive(grantId, userId) {
      const row = await repository.findFlow(rowKey(grantId));
      const open =
        row !== undefined &&
        row.user_id === userId &&
        row.consumed_at === null &&
        row.expires_at > clock.now().getTime();
      if (!open) return false;
      // A grant stands in for a factor the account lacks. Once it has one (its owner set it up with
      // another set-up token or session), the password alone must never again be enough (NIST SP
      // 800-63B §4.2): an older set-up token would otherwise add its holder's own app and sign in.
      const { totp, email, passkey } = await repository.enabledFactors(userId);
      // After a passkey sign-in (`hwk`) the passkey is the first factor, not the second the grant waits for.
      const counted = passkey && row.first_factor !== 'hwk';
      return !hasSecondFactor([
        ...(totp ? ['totp'] : []),
        ...(email ? ['email'] : []),
        ...(counted ? ['passkey'] : []),
      ]);
    },
    completeSetupGrant: async (grantId) => repository.consumeFlow(rowKey(grantId), clock.now().getTime()),
  };
}
