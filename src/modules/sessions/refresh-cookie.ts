import type { FastifyReply, FastifyRequest } from 'fastify';

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

export function setRefreshCookie(reply: FastifyReply, refreshToken: string, maxAgeSeconds: number): void {
  // Secure cookies are accepted on http://localhost by browsers; production needs HTTPS.
  reply.setCookie(REFRESH_COOKIE, refreshToken, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: COOKIE_PATH,
    maxAge: maxAgeSeconds,
  });
  reply.setCookie(SIGNED_IN_COOKIE, '1', {
    httpOnly: false,
    secure: true,
    sameSite: 'strict',
    path: '/',
    maxAge: maxAgeSeconds,
  });
}

export function clearRefreshCookie(reply: FastifyReply): void {
  reply.clearCookie(REFRESH_COOKIE, { httpOnly: true, secure: true, sameSite: 'strict', path: COOKIE_PATH });
  reply.clearCookie(SIGNED_IN_COOKIE, { httpOnly: false, secure: true, sameSite: 'strict', path: '/' });
}
