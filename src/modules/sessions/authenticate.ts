import type { FastifyRequest } from 'fastify';
import type { Require2fa } from '../../config.js';
import type { Authenticate } from '../../http/principal.js';
import { AppError } from '../../lib/errors.js';
import { TokenVerificationError, type AccessClaims, type TokenService } from '../tokens/tokens.service.js';
import { MFA_SETUP_SCOPE, provesSecondFactor } from '../two-factor/require-2fa.js';
import type { SetupGrants } from '../two-factor/setup-grants.js';
import type { SessionsService } from './sessions.service.js';

const FAILURE_MESSAGES = {
  expired: 'The access token has expired; refresh it.',
  invalid_signature: 'The access token is not valid.',
  malformed: 'The access token is malformed.',
} as const;

export interface AuthenticateDeps {
  tokens: TokenService;
  sessions: SessionsService;
  /** Whether a set-up token's grant is still open (two-factor owns the grants). */
  setupGrants: Pick<SetupGrants, 'isSetupGrantLive'>;
  /** REQUIRE_2FA. */
  require2fa: Require2fa;
}

/**
 * onRequest hook: a verified access token whose session is still live, or 401 `unauthorized`.
 *
 * REQUIRE_2FA (docs/security.md, "Required second factor"): a set-up token, and with `all` a session
 * signed in without a second factor, are refused with 403 `mfa_setup_required` on every route but
 * those whose `config.beforeSecondFactor` lets them in. The route says so, not a list of URLs here: a
 * new route is closed to them until it opts in.
 */
export function createAuthenticate(deps: AuthenticateDeps): Authenticate {
  const allowed = (request: FastifyRequest): string | undefined => request.routeOptions.config.beforeSecondFactor;

  async function setupTokenPrincipal(request: FastifyRequest, claims: AccessClaims, userId: number): Promise<void> {
    if (allowed(request) !== 'setup') throw new AppError('mfa_setup_required');
    // No session to revoke: the grant is what ends (completed, the account gone, its 2FA reset).
    if (!(await deps.setupGrants.isSetupGrantLive(claims.jti, userId)))
      throw new AppError('unauthorized', { message: 'The set-up token has been used or has expired; sign in again.' });
    // No route it may call decides by role; the role is the token's.
    request.principal = {
      userId,
      username: claims.username,
      role: claims.role,
      sessionId: 0,
      amr: claims.amr,
      authTime: claims.auth_time ?? null,
      setupGrant: claims.jti,
    };
  }

  return async function authenticate(request) {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) throw new AppError('unauthorized', { message: 'Send Authorization: Bearer <access_token>.' });
    let claims;
    try {
      claims = await deps.tokens.verifyAccessToken(match[1]);
    } catch (error) {
      if (error instanceof TokenVerificationError)
        throw new AppError('unauthorized', { message: FAILURE_MESSAGES[error.reason] });
      throw error;
    }
    const userId = Number(claims.sub);
    if (claims.scope === MFA_SETUP_SCOPE) return setupTokenPrincipal(request, claims, userId);
    // A scope this server does not know: not an access token it would accept anywhere.
    if (claims.scope !== undefined) throw new AppError('unauthorized', { message: FAILURE_MESSAGES.invalid_signature });
    const session = await deps.sessions.check(claims.sid, userId);
    if (!session.active) throw new AppError('unauthorized', { message: 'The session has ended; sign in again.' });
    // With REQUIRE_2FA=all, a session from before the policy (or from before its factor) proves a
    // password only: it may set up a factor and re-authenticate with it, nothing else. (`admin` is
    // the administration's own check: createRequireAdmin.)
    if (deps.require2fa === 'all' && !provesSecondFactor(claims.amr) && allowed(request) === undefined)
      throw new AppError('mfa_setup_required');
    // The role as stored now, not the one signed into the token: a demotion acts at once
    // (OWASP Authorization Cheat Sheet: validate permissions on every request).
    request.principal = {
      userId,
      username: claims.username,
      role: session.role,
      sessionId: claims.sid,
      amr: claims.amr,
      authTime: claims.auth_time ?? null,
    };
  };
}
