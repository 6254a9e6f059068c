import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { AuditContext, AuditService } from '../audit/audit.service.js';
import { ADMIN_LOCK_UNTIL_MS, type LockoutRepository } from './lockout.repository.js';

export interface LockoutService {
  /** Spends one attempt of the account's budget, or throws 429 `too_many_attempts` with Retry-After. */
  reserve(userId: number, context: AuditContext): Promise<void>;
  refund(userId: number): Promise<void>;
  /** After a failed attempt: records the lock in the audit trail when this failure caused one. */
  failed(userId: number, context: AuditContext): Promise<void>;
  /**
   * Runs a check of a secret outside login (current password, a second-factor code) under the same
   * budget: reserved before, given back when right, counted as a failure when wrong.
   */
  guard<T>(userId: number, context: AuditContext, check: () => Promise<T>): Promise<T>;
}

const GUESS_ERRORS = new Set(['invalid_credentials', 'invalid_mfa_code']);

export function createLockoutService(deps: { repository: LockoutRepository; clock: Clock; audit: AuditService }): LockoutService {
  const { repository, clock, audit } = deps;
  return {
    async reserve(userId, context) {
      const nowMs = clock.now().getTime();
      if (await repository.reserveAttempt(userId, nowMs)) return;
      const lockedUntil = (await repository.state(userId))?.lockedUntil ?? nowMs;
      if (lockedUntil >= ADMIN_LOCK_UNTIL_MS) {
        await audit.record({ ...context, type: 'login.failed', userId, detail: { reason: 'locked_by_admin' } });
        throw new AppError('forbidden', { message: 'This account has been locked by an administrator.' });
      }
      const retryAfterSeconds = Math.max(1, Math.ceil((lockedUntil - nowMs) / 1000));
      await audit.record({ ...context, type: 'login.failed', userId, detail: { reason: 'locked' } });
      throw new AppError('too_many_attempts', { message: `Too many failed attempts: this account is locked; try again in ${retryAfterSeconds} seconds.`, retryAfterSeconds });
    },
    refund: (userId) => repository.refundAttempt(userId),
    async guard(userId, context, check) {
      await this.reserve(userId, context);
      try {
        const result = await check();
        await repository.refundAttempt(userId);
        return result;
      } catch (error) {
        if (error instanceof AppError && GUESS_ERRORS.has(error.code)) await this.failed(userId, context);
        else await repository.refundAttempt(userId);
        throw error;
      }
    },
    async failed(userId, context) {
      const state = await repository.state(userId);
      const nowMs = clock.now().getTime();
      if (state?.lockedUntil != null && state.lockedUntil > nowMs) {
        await audit.record({ ...context, type: 'account.locked', userId, detail: { failed_attempts: state.failedAttempts, seconds: Math.ceil((state.lockedUntil - nowMs) / 1000) } });
      }
    },
  };
}
