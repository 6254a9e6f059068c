import type { Clock } from '../../lib/clock.js';
import { hmacHex } from '../../lib/crypto.js';
import { AppError } from '../../lib/errors.js';
import { normalizeUsername } from '../accounts/accounts.repository.js';
import { emailLookupKey } from '../accounts/email-address.js';
import { ADMIN_LOCK_UNTIL_MS } from '../accounts/lock-columns.js';
import type { AuditContext, AuditService } from '../audit/audit.service.js';
import type { DeviceCookie, DeviceCookies, LockoutClient } from './device-cookie.js';
import type { AccountTarget, KeyedTarget, LockTarget, LockoutRepository } from './lockout.repository.js';

export type { AccountTarget, LockTarget } from './lockout.repository.js';
export type { LockoutClient } from './device-cookie.js';

export interface LockoutService {
  /**
   * The budget a request for a known account spends: its device cookie's own when it presents a
   * valid one for this account, otherwise the account's budget for untrusted clients.
   */
  targetFor(userId: number, client: LockoutClient): AccountTarget;
  /** The budget of a login identifier that names no account (keyed by an HMAC of its normal form). */
  targetForUnknown(identifier: string): LockTarget;
  /** Spends one attempt of the target's budget, or throws 429 `too_many_attempts` with Retry-After. */
  reserve(target: LockTarget, context: AuditContext): Promise<void>;
  refund(target: LockTarget): Promise<void>;
  /** After a failed attempt: records the lock in the audit trail when this failure caused one. */
  failed(target: LockTarget, context: AuditContext): Promise<void>;
  /**
   * After a sign-in that spent a device cookie's budget: that budget's failures are forgotten (the account's own go
   * with the login time).
   */
  succeeded(target: KeyedTarget): Promise<void>;
  /**
   * Runs a check of a secret outside login (current password, a second-factor code) under the same
   * budget: reserved before, given back when right, counted as a failure when wrong.
   */
  guard<T>(userId: number, client: LockoutClient, check: () => Promise<T>): Promise<T>;
  /** A new device cookie for a client that has just signed in to the account. */
  issueDeviceCookie(userId: number): DeviceCookie;
}

const GUESS_ERRORS = new Set(['invalid_credentials', 'invalid_mfa_code']);

export interface LockoutDeps {
  repository: LockoutRepository;
  clock: Clock;
  audit: AuditService;
  devices: DeviceCookies;
  /** HMAC key for lockout keys (identifiers, device nonces): the table never holds them in the clear. */
  keyHashKey: Buffer;
}

export function createLockoutService(deps: LockoutDeps): LockoutService {
  const { repository, clock, audit, devices, keyHashKey } = deps;
  const who = (context: AuditContext): AuditContext => ({
    ip: context.ip ?? null,
    userAgent: context.userAgent ?? null,
  });
  const userIdOf = (target: LockTarget): number | null => (target.kind === 'name' ? null : target.userId);

  function tooManyAttempts(lockedUntil: number, nowMs: number): AppError {
    // One message and one Retry-After rule for every kind of target: an unknown name's 429 must be
    // indistinguishable from a known account's (OWASP Authentication Cheat Sheet, account enumeration).
    const retryAfterSeconds = Math.max(1, Math.ceil((lockedUntil - nowMs) / 1000));
    return new AppError('too_many_attempts', {
      message: `Too many failed attempts: this account is locked; try again in ${retryAfterSeconds} seconds.`,
      retryAfterSeconds,
    });
  }

  async function refuseAdminLock(
    userId: number,
    context: AuditContext,
    lockedUntil: number | null | undefined,
  ): Promise<void> {
    if (lockedUntil == null || lockedUntil < ADMIN_LOCK_UNTIL_MS) return;
    await audit.record({ ...who(context), type: 'login.failed', userId, detail: { reason: 'locked_by_admin' } });
    throw new AppError('forbidden', { message: 'This account has been locked by an administrator.' });
  }

  return {
    targetFor(userId, client) {
      const ticket = devices.read(client.cookies, userId, clock.now().getTime());
      if (!ticket) return { kind: 'account', userId };
      return { kind: 'device', userId, key: hmacHex(keyHashKey, `device:${userId}:${ticket.nonce}`) };
    },

    targetForUnknown(identifier) {
      // The same keys as the account lookup (findByLogin), so every spelling of one name shares one
      // budget. A compatibility spelling (full-width, Kelvin sign) names no account there, so it gets a
      // budget of its own here too: sharing the plain address's would lock that address only when it
      // has no account, telling which addresses do (OWASP Authentication Cheat Sheet, account enumeration).
      const emailKey = identifier.includes('@') ? emailLookupKey(identifier) : null;
      const normal = !identifier.includes('@')
        ? `username:${normalizeUsername(identifier)}`
        : emailKey !== null
          ? `email:${emailKey}`
          : `email-compat:${identifier}`;
      return { kind: 'name', key: hmacHex(keyHashKey, `name:${normal}`) };
    },

    async reserve(target, context) {
      const nowMs = clock.now().getTime();
      // A device cookie does not get round an administrator's lock.
      if (target.kind === 'device')
        await refuseAdminLock(
          target.userId,
          context,
          (await repository.state({ kind: 'account', userId: target.userId }))?.lockedUntil,
        );
      if (await repository.reserveAttempt(target, nowMs)) return;
      const lockedUntil = (await repository.state(target))?.lockedUntil ?? nowMs;
      if (target.kind === 'account') await refuseAdminLock(target.userId, context, lockedUntil);
      await audit.record({
        ...who(context),
        type: 'login.failed',
        userId: userIdOf(target),
        detail: { reason: target.kind === 'device' ? 'device_locked' : 'locked' },
      });
      throw tooManyAttempts(lockedUntil, nowMs);
    },

    refund: (target) => repository.refundAttempt(target),
    succeeded: (target) => repository.clearFailures(target),

    async guard(userId, client, check) {
      const target = this.targetFor(userId, client);
      await this.reserve(target, client);
      try {
        const result = await check();
        await repository.refundAttempt(target);
        return result;
      } catch (error) {
        if (error instanceof AppError && GUESS_ERRORS.has(error.code)) await this.failed(target, client);
        else await repository.refundAttempt(target);
        throw error;
      }
    },

    async failed(target, context) {
      if (target.kind === 'name') return; // no account to audit; login.failed (unknown_user) is recorded
      const state = await repository.state(target);
      const nowMs = clock.now().getTime();
      if (state?.lockedUntil != null && state.lockedUntil > nowMs) {
        const detail = {
          failed_attempts: state.failedAttempts,
          seconds: Math.ceil((state.lockedUntil - nowMs) / 1000),
        };
        await audit.record({
          ...who(context),
          type: target.kind === 'device' ? 'device.locked' : 'account.locked',
          userId: target.userId,
          detail,
        });
      }
    },

    issueDeviceCookie: (userId) => devices.issue(userId, clock.now().getTime()),
  };
}
