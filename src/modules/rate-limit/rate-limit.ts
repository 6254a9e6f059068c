import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { clientKey } from './client-key.js';
import type { CounterStore } from './counter-store.js';

export type LimitGroup = 'login' | 'register' | 'recovery';

/** Which routes each per-IP limit covers: every place a password, code or account token is guessed. */
export const LIMITED_ROUTES: Record<string, LimitGroup> = {
  'POST /api/auth/login': 'login',
  'POST /login': 'login',
  'POST /api/auth/2fa/login': 'login',
  'POST /api/auth/2fa/email/send': 'login',
  'POST /api/auth/reauth': 'login',
  // Passwordless sign-in: a failed assertion is a guess like a wrong password.
  'POST /api/auth/passkeys/login/options': 'login',
  'POST /api/auth/passkeys/login/verify': 'login',
  'POST /api/auth/2fa/passkey/options': 'login',
  'POST /api/auth/passkeys/reauth/options': 'login',
  'POST /api/auth/register': 'register',
  'POST /register': 'register',
  'POST /api/auth/password/forgot': 'recovery',
  'POST /api/auth/password/reset': 'recovery',
  'POST /api/auth/password/reset/check': 'recovery',
  'POST /api/auth/email/verify': 'recovery',
  'POST /api/auth/email/verify/resend': 'recovery',
  // A signed-in person's new address: it mails a link and a notice.
  'POST /api/auth/email/change': 'recovery',
  // Stand-alone email codes: mailing one, and guessing one.
  'POST /generate-2fa': 'recovery',
  'POST /verify': 'recovery',
};

const WINDOW_MS = 60_000;

/**
 * One hit on `key`'s sliding window (two fixed windows, the previous one weighted by how much of it
 * still overlaps the last minute); over `perMinute`, `429 too_many_attempts` with `Retry-After`.
 */
export async function enforceLimit(
  store: CounterStore,
  clock: Clock,
  key: string,
  perMinute: number,
  message = 'Too many requests from your address; slow down.',
): Promise<void> {
  const nowMs = clock.now().getTime();
  const windowIndex = Math.floor(nowMs / WINDOW_MS);
  const elapsed = (nowMs - windowIndex * WINDOW_MS) / WINDOW_MS;
  const counts = await store.hit(key, windowIndex, WINDOW_MS, nowMs);
  const estimate = counts.previous * (1 - elapsed) + counts.current;
  if (estimate > perMinute) {
    const retryAfterSeconds = Math.max(1, Math.ceil(((windowIndex + 1) * WINDOW_MS - nowMs) / 1000));
    throw new AppError('too_many_attempts', { message, retryAfterSeconds });
  }
}

/**
 * Call before the routes are registered. Sliding-window limit per client IP, approximated from two fixed windows (the
 * previous one
 * weighted by how much of it still overlaps the last minute), as Cloudflare and Redis' docs describe.
 */
export function installRateLimits(
  app: FastifyInstance,
  deps: { store: CounterStore; clock: Clock; perMinute: Record<LimitGroup, number> },
): void {
  const check =
    (group: LimitGroup) =>
    async (request: FastifyRequest): Promise<void> => {
      await enforceLimit(deps.store, deps.clock, `${group}:${clientKey(request.ip)}`, deps.perMinute[group]);
    };
  // Attached to the limited routes only (at registration), so no other route pays for it.
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      const group = LIMITED_ROUTES[`${method} ${route.url}`];
      if (!group) continue;
      const existing = route.onRequest ? [route.onRequest].flat() : [];
      route.onRequest = [check(group), ...existing] as typeof route.onRequest;
    }
  });
}
