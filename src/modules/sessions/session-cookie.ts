import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { constantTimeEqual, hmacHex } from '../../lib/crypto.js';
import { clearingHeader } from './clearing-header.js';
import type { Tokens } from './sessions.service.js';

/**
 * The browser session cookie that forward authentication reads (docs/forward-auth.md): it names the session a
 * browser signed in with, so a reverse proxy in front of another application on the same domain can ask whether
 * the person is signed in. It holds no token: the session's and user's ids bound by an HMAC under a key of its
 * own, so it cannot be forged or pointed at another session (OWASP Session Management Cheat Sheet: session ids
 * must not be predictable), and it is only as alive as the session — every check asks the sessions module, so a
 * sign-out, a revocation on any instance or a deleted account ends it at once, whatever the cookie's Max-Age says.
 *
 * HttpOnly (no script reads it), Secure, SameSite=Lax (sent on the top-level navigation that comes back from the
 * sign-in page, never on another site's sub-requests or form posts: RFC 6265bis §8.8), Path=/, and with
 * SESSION_COOKIE_DOMAIN the parent domain the protected hosts share.
 */
export const SESSION_COOKIE = 'twofold_session';
const VERSION = 'v1';
/** A genuine value is at most 2 × 16 digits, the version and a 64-digit MAC; a longer one is not worth the HMAC. */
const MAX_LENGTH = 128;

export interface SessionCookieRef {
  sessionId: number;
  userId: number;
}

export interface SessionCookie {
  /** Sets the cookie for the session a fresh answer with tokens opened or continued. */
  set(reply: FastifyReply, tokens: Pick<Tokens, 'access_token'>): void;
  clear(reply: FastifyReply): void;
  /** A Set-Cookie value that removes the cookie, for an answer Fastify does not write (the OIDC provider's). */
  clearHeader(): string;
  /** The session the request's cookie names, when its MAC is genuine; nothing is said about the session's life. */
  read(request: FastifyRequest): SessionCookieRef | undefined;
  /** The same check for a value read elsewhere than from a Fastify request. */
  verify(value: string | undefined): SessionCookieRef | undefined;
}

export interface SessionCookieOptions {
  /** A key of its own (deriveKey(encryptionKey, …)), used for nothing else. */
  key: Uint8Array;
  /** SESSION_COOKIE_DOMAIN; undefined: a host-only cookie. */
  domain: string | undefined;
  /** The refresh token's life: the cookie is set again at every refresh, as the session slides. */
  maxAgeSeconds: number;
}

export function createSessionCookie(options: SessionCookieOptions): SessionCookie {
  const mac = (sessionId: number, userId: number): string =>
    hmacHex(options.key, `${VERSION}.session-cookie.${sessionId}.${userId}`);
  const attributes = {
    httpOnly: true,
    secure: true,
    sameSite: 'lax' as const,
    path: '/',
    ...(options.domain ? { domain: options.domain } : {}),
  };
  const verify = (value: string | undefined): SessionCookieRef | undefined => {
    if (typeof value !== 'string' || value.length > MAX_LENGTH) return undefined;
    const match = /^v1\.(\d{1,16})\.(\d{1,16})\.([0-9a-f]{64})$/.exec(value);
    if (!match) return undefined;
    const sessionId = Number(match[1]);
    const userId = Number(match[2]);
    if (!constantTimeEqual(match[3] ?? '', mac(sessionId, userId))) return undefined;
    return { sessionId, userId };
  };
  return {
    set(reply, tokens) {
      // The access token was signed a moment ago by this process: its `sid` and `sub` name the session.
      const claims = decodeJwt(tokens.access_token);
      const sessionId = Number(claims.sid);
      const userId = Number(claims.sub);
      if (!Number.isSafeInteger(sessionId) || sessionId <= 0 || !Number.isSafeInteger(userId)) return;
      reply.setCookie(SESSION_COOKIE, `${VERSION}.${sessionId}.${userId}.${mac(sessionId, userId)}`, {
        ...attributes,
        maxAge: options.maxAgeSeconds,
      });
    },
    clear(reply) {
      reply.clearCookie(SESSION_COOKIE, attributes);
    },
    clearHeader: () => clearingHeader(SESSION_COOKIE, attributes),
    read: (request) => verify(request.cookies[SESSION_COOKIE]),
    verify,
  };
}
