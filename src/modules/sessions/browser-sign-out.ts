import { AppError } from '../../lib/errors.js';
import { refreshCookieClearHeaders } from './refresh-cookie.js';
import { SESSION_COOKIE, type SessionCookie } from './session-cookie.js';
import type { SessionsService } from './sessions.service.js';

export interface BrowserSignOutResult {
  /** Whether a live session ended. */
  ended: boolean;
  /** Set-Cookie values that remove the browser's Twofold cookies; none when they were not the person's. */
  clearCookies: string[];
}

/**
 * Ends the Twofold session of one browser for another part of Twofold that answers the browser itself (the
 * OpenID Connect provider's end-session confirmation): what the web UI's sign-out does, found from the browser's
 * `twofold_session` cookie instead of its refresh token.
 */
export type BrowserSignOut = (
  /** The browser's cookie of that name, as sent. */
  cookie: (name: string) => string | undefined,
  /** The account being signed out: a cookie of anyone else's session ends nothing. */
  userId: number,
) => Promise<BrowserSignOutResult>;

export function createBrowserSignOut(deps: {
  sessions: Pick<SessionsService, 'end'>;
  sessionCookie: Pick<SessionCookie, 'verify' | 'clearHeader'>;
}): BrowserSignOut {
  return async (cookie, userId) => {
    // The MAC binds the session to its user (session-cookie.ts): a forged value, or a genuine cookie of
    // another account's session, names nothing this sign-out may end (OWASP ASVS V3.2: a session is bound to
    // its user; a sign-out must not become a way to end someone else's).
    const ref = deps.sessionCookie.verify(cookie(SESSION_COOKIE));
    if (!ref || ref.userId !== userId) return { ended: false, clearCookies: [] };
    let ended = true;
    try {
      // The sessions module's own path: the revocation reaches every instance (revocation bus) and the
      // provider's other browser sessions of the account end with it, as after the web UI's sign-out.
      await deps.sessions.end(userId, ref.sessionId);
    } catch (error) {
      // Already ended (another tab, a sign-out everywhere): the cookies are still cleared.
      if (!(error instanceof AppError && error.code === 'not_found')) throw error;
      ended = false;
    }
    return { ended, clearCookies: [deps.sessionCookie.clearHeader(), ...refreshCookieClearHeaders()] };
  };
}
