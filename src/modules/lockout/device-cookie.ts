import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual, hmacHex, randomToken } from '../../lib/crypto.js';

/**
 * Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a client that has
 * signed in to an account gets a signed cookie for it; failures from clients without one never
 * lock that client out, and the cookie has its own small failure budget (keyed by its nonce).
 *
 * One cookie per account, named by a keyed hash of the account id: several accounts in one
 * browser each keep their own cookie without a read-modify-write of a shared one (two tabs signing
 * in at once cannot drop each other's entry), each stays far below the 4096-byte cookie limit
 * (RFC 6265 section 6.1), and the server finds the one it needs by name without parsing the rest.
 */
export const DEVICE_COOKIE_PREFIX = 'twofold_device_';
/** Long-lived, as OWASP suggests: the cookie only matters when the account is under attack. */
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;
/** Issue times this far in the future are accepted (clock skew between instances). */
const FUTURE_SKEW_MS = 5 * 60 * 1000;
const VERSION = 'v1';

export interface DeviceCookie {
  name: string;
  value: string;
  maxAgeSeconds: number;
}

export interface DeviceTicket {
  userId: number;
  nonce: string;
  issuedAtMs: number;
}

export interface DeviceCookies {
  nameFor(userId: number): string;
  /** A fresh cookie for the account: the account id, a random nonce and the issue time, signed. */
  issue(userId: number, nowMs: number): DeviceCookie;
  /** The account's cookie among `cookies` when it is genuine, for this account, and not expired; else undefined. */
  read(
    cookies: Readonly<Record<string, string | undefined>> | undefined,
    userId: number,
    nowMs: number,
  ): DeviceTicket | undefined;
}

/** `key`: a key of its own (deriveKey(encryptionKey, …)), used for nothing else. */
export function createDeviceCookies(key: Buffer): DeviceCookies {
  const mac = (payload: string): string =>
    createHmac('sha256', key).update(`${VERSION}.${payload}`, 'utf8').digest('base64url');
  const nameFor = (userId: number): string => `${DEVICE_COOKIE_PREFIX}${hmacHex(key, `name:${userId}`).slice(0, 24)}`;
  return {
    nameFor,
    issue(userId, nowMs) {
      const payload = `${userId}.${nowMs}.${randomToken(18)}`;
      return {
        name: nameFor(userId),
        value: `${payload}.${mac(payload)}`,
        maxAgeSeconds: DEVICE_COOKIE_MAX_AGE_SECONDS,
      };
    },
    read(cookies, userId, nowMs) {
      const value = cookies?.[nameFor(userId)];
      if (typeof value !== 'string' || value.length > 200) return undefined;
      const parts = value.split('.');
      if (parts.length !== 4) return undefined;
      const [id, issued, nonce, signature] = parts as [string, string, string, string];
      // Constant-time comparison of the signature (OWASP: the cookie must not be forgeable).
      if (!constantTimeEqual(signature, mac(`${id}.${issued}.${nonce}`))) return undefined;
      if (id !== String(userId) || !/^\d{1,16}$/.test(issued) || !/^[\w-]{16,64}$/.test(nonce)) return undefined;
      const issuedAtMs = Number(issued);
      if (issuedAtMs > nowMs + FUTURE_SKEW_MS || nowMs - issuedAtMs > DEVICE_COOKIE_MAX_AGE_SECONDS * 1000)
        return undefined;
      return { userId, nonce, issuedAtMs };
    },
  };
}

/** What the lockout needs to know about a request: who, for the audit trail, and its cookies. */
export interface LockoutClient {
  ip?: string | null;
  userAgent?: string | null;
  cookies?: Readonly<Record<string, string | undefined>> | undefined;
}

export function lockoutClient(request: FastifyRequest): LockoutClient & { userAgent: string | null; ip: string } {
  return { userAgent: request.headers['user-agent'] ?? null, ip: request.ip, cookies: request.cookies };
}

/**
 * `HttpOnly` (no script reads it), `Secure`, `SameSite=Strict`, and `Path=/`: the compatibility
 * route `POST /login` must receive it as well as `/api/auth/…`.
 */
export function setDeviceCookie(reply: FastifyReply, cookie: DeviceCookie): void {
  reply.setCookie(cookie.name, cookie.value, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: '/',
    maxAge: cookie.maxAgeSeconds,
  });
}
