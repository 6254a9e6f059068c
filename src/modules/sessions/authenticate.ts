import type { Authenticate } from '../../http/principal.js';
import { AppError } from '../../lib/errors.js';
import { TokenVerificationError, type TokenService } from '../tokens/tokens.service.js';
import type { SessionsService } from './sessions.service.js';

const FAILURE_MESSAGES = {
  expired: 'The access token has expired; refresh it.',
  invalid_signature: 'The access token is not valid.',
  malformed: 'The access token is malformed.',
} as const;

/** onRequest hook: a verified access token whose session is still live, or 401 `unauthorized`. */
export function createAuthenticate(deps: { tokens: TokenService; sessions: SessionsService }): Authenticate {
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
    const session = await deps.sessions.check(claims.sid, userId);
    if (!session.active) throw new AppError('unauthorized', { message: 'The session has ended; sign in again.' });
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
