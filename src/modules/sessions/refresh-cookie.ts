import type { FastifyReply, FastifyRequest } from 'fastify';
import { clearingHeader } from './clearing-header.js';

// the HTTP contract "Browser sessions": the web UI keeps the refresh token in this cookie only.
export const REFRESH_COOKIE = 'twofold_refresh';
const COOKIE_PATH = '/api/auth';

/** Browser requests announce themselves with `X-Requested-With: twofold` (CSRF guard). */
export function isBrowserRequest(request: FastifyRequest): boolean {
  return request.headers['x-requested-with'] === 'twofold';
}

/** The refresh token from the body, or from the cookie when the CSRF header is present. */
export function refreshTokenFrom(request: FastifyRequest, bodyToken: string | undefined): string | undefined {
  if (bodyToken) return bodyToken;
  return isBrowserRequest(request) ? request.cookies[REFRESH_COOKIE] : undefined;
}

/**
 * A readable companion of the HttpOnly refresh cookie, holding no secret: it only tells the web UI
 * that a refresh is worth trying on start-up (it cannot see the HttpOnly cookie itself).
 */
export const SIGNED_IN_COOKIE = 'twofold_signed_in';

// Secure cookies are accepted on http://localhost by browsers; production needs HTTPS.
const REFRESH_ATTRIBUTES = { httpOnly: true, secure: true, sameSite: 'strict', path: COOKIE_PATH } as const;
const SIGNED_IN_ATTRIBUTES = { httpOnly: false, secure: true, sameSite: 'strict', path: '/' } as const;

export function setRefreshCookie(reply: FastifyReply, refreshToken: string, maxAgeSeconds: number): void {
  reply.setCookie(REFRESH_COOKIE, refreshToken, { ...REFRESH_ATTRIBUTES, maxAge: maxAgeSeconds });
  reply.setCookie(SIGNED_IN_COOKIE, '1', { ...SIGNED_IN_ATTRIBUTES, maxAge: maxAgeSeconds });
}

export function clearRefreshCookie(reply: FastifyReply): void {
  reply.clearCookie(REFRESH_COOKIE, REFRESH_ATTRIBUTES);
  reply.clearCookie(SIGNED_IN_COOKIE, SIGNED_IN_ATTRIBUTES);
}

/** The Set-Cookie values of clearRefreshCookie, for an answer Fastify does not write. */
export function refreshCookieClearHeaders(): string[] {
  return [clearingHeader(REFRESH_COOKIE, REFRESH_ATTRIBUTES), clearingHeader(SIGNED_IN_COOKIE, SIGNED_IN_ATTRIBUTES)];
}
