import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/** `locked_until` of an administrator's lock: until unlocked, never lifted by a login or a timer. */
export const ADMIN_LOCK_UNTIL_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Clears a brute-force lock but leaves an administrator's lock in place. */
export const liftBruteForceLock = sql<number | null>`case when locked_until >= ${ADMIN_LOCK_UNTIL_MS} then locked_until else null end`;

export interface LockoutPolicy {
  /** Consecutive failures that lock the account (Keycloak: failure factor). */
  threshold: number;
  /** First lock duration; doubles with every further failure (Keycloak: wait increment). */
  baseSeconds: number;
  /** Longest lock (Keycloak: max wait). */
  maxSeconds: number;
}

export interface LockState {
  failedAttempts: number;
  lockedUntil: number | null;
}

export interface LockoutRepository {
  /**
   * Counts one attempt before the secret is checked, unless the account is locked; when the
   * count reaches the threshold the lock is set in the same statement. A burst of parallel
   * guesses therefore cannot get more attempts than the budget. False when locked.
   */
  reserveAttempt(userId: number, nowMs: number): Promise<boolean>;
  /** Gives back a reserved attempt whose secret was right but whose login is not finished (2FA pending). */
  refundAttempt(userId: number): Promise<void>;
  state(userId: number): Promise<LockState | undefined>;
}

/** Lock length after `failures` consecutive failures: none below the threshold, then doubling up to the max. */
export function lockSeconds(failures: number, policy: LockoutPolicy): number {
  if (failures < policy.threshold) return 0;
  return Math.min(policy.baseSeconds * 2 ** Math.min(failures - policy.threshold, 30), policy.maxSeconds);
}

export function createLockoutRepository(db: Kysely<Database>, policy: LockoutPolicy): LockoutRepository {
  /** CASE over the new failure count: the doubling schedule as literal steps (portable, no pow()). */
  function lockExpression(nowMs: number): ReturnType<typeof sql<number | null>> {
    const steps: Array<[number, number]> = [];
    for (let failures = policy.threshold; ; failures++) {
      const seconds = lockSeconds(failures, policy);
      steps.push([failures, seconds]);
      if (seconds >= policy.maxSeconds) break;
    }
    const branches = steps.reverse().map(([failures, seconds]) => sql`when failed_attempts + 1 >= ${failures} then ${nowMs + seconds * 1000}`);
    return sql<number | null>`case ${sql.join(branches, sql` `)} else locked_until end`;
  }

  return {
    async reserveAttempt(userId, nowMs) {
      const result = await db
        .updateTable('users')
        // locked_until first: MySQL evaluates SET assignments left to right, so it must see the old count.
        .set({ locked_until: lockExpression(nowMs), failed_attempts: sql`failed_attempts + 1` })
        .where('id', '=', userId)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', nowMs)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async refundAttempt(userId) {
      // The attempt that reached the threshold may have set a lock; a right password lifts it again.
      await db.updateTable('users').set({ locked_until: liftBruteForceLock, failed_attempts: sql`failed_attempts - 1` }).where('id', '=', userId).where('failed_attempts', '>', 0).execute();
    },
    async state(userId) {
      const row = await db.selectFrom('users').select(['failed_attempts', 'locked_until']).where('id', '=', userId).executeTakeFirst();
      return row && { failedAttempts: row.failed_attempts, lockedUntil: row.locked_until };
    },
  };
}
