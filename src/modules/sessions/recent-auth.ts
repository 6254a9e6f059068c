import { requirePrincipal, type RequireRecentAuth } from '../../http/principal.js';
import { nowSeconds, type Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';

/**
 * The one rule for sensitive changes (the HTTP contract "Security rules"): the person must have proved who
 * they are (password, second factor) within the last `maxAgeSeconds`, or the answer is 403
 * `reauth_required`. A stolen access token alone then cannot take over the account's factors or
 * password (NIST SP 800-63B §4.2.3 / §6.1.2: re-authenticate before binding or removing an
 * authenticator; OWASP Authentication Cheat Sheet, "Require re-authentication for sensitive
 * features"). A token without `auth_time` counts as old. A set-up token (REQUIRE_2FA) counts as recent for
 * its whole life: it is the sign-in itself, lives 10 minutes and can do nothing but set up a factor.
 *
 * Use as a route preHandler after `authenticate`: `preHandler: requireRecentAuth`.
 */
export function createRequireRecentAuth(deps: { clock: Clock; maxAgeSeconds: number }): RequireRecentAuth {
  return async function requireRecentAuth(request) {
    const { authTime, setupGrant } = requirePrincipal(request.principal);
    if (setupGrant !== undefined) return;
    if (authTime === null || nowSeconds(deps.clock) - authTime > deps.maxAgeSeconds)
      throw new AppError('reauth_required');
  };
}
