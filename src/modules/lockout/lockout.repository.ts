import { sql, type Kysely } from 'kysely';
import { retryOnDeadlock, uniqueViolation } from '../../db/errors.js';
import type { Database } from '../../db/schema.js';
import { transactionWithRetry } from '../../db/transaction.js';
import { accountAttemptCounter, accountLockColumns, type CountedAttempt } from '../accounts/lock-columns.js';
import { failureMemoryMs, lockSecondsAfterFailures, type LockoutPolicy } from './lockout.policy.js';

export type { LockoutPolicy } from './lockout.policy.js';

export interface LockState {
  failedAttempts: number;
  lockedUntil: number | null;
}

/**
 * Whose budget an attempt spends (OWASP "Slow Down Online Guessing Attacks with Device Cookies"):
 * - `account`: every client of a known account without a valid device cookie for it (users row);
 * - `device`: one device cookie of that account (its nonce, keyed);
 * - `name`: a login identifier that names no account (keyed), so unknown names lock like known ones.
 */
export type LockTarget =
  { kind: 'account'; userId: number } | { kind: 'device'; userId: number; key: string } | { kind: 'name'; key: string };

/** The budgets of a known account: its untrusted clients', or one of its device cookies'. */
export type AccountTarget = Extract<LockTarget, { userId: number }>;
/** A budget of its own row in `login_lockouts` (a device cookie, or a name without an account). */
export type KeyedTarget = Extract<LockTarget, { key: string }>;

export interface LockoutRepository {
  /**
   * Counts one attempt before the secret is checked, unless the target is locked; when the count
   * reaches the threshold the lock is set in the same statement. A burst of parallel guesses
   * therefore cannot get more attempts than the budget. False when locked.
   */
  reserveAttempt(target: LockTarget, nowMs: number): Promise<boolean>;
  /** Gives back a reserved attempt whose secret was right but whose login is not finished (2FA pending). */
  refundAttempt(target: LockTarget): Promise<void>;
  /** A finished sign-in: the target's failure count and brute-force lock go. */
  clearFailures(target: KeyedTarget): Promise<void>;
  state(target: LockTarget): Promise<LockState | undefined>;
}

/**
 * Lifts every brute-force lock of an account: its untrusted-client lock and the locks of all its
 * device cookies. An administrator's lock stays unless `adminLockToo` (the administrator's unlock).
 */
export async function liftEveryLock(
  db: Kysely<Database>,
  userId: number,
  options: { adminLockToo: boolean; nowMs: number },
): Promise<void> {
  await transactionWithRetry(db, async (trx) => {
    await accountLockColumns(trx).clearLocks(userId, options);
    await trx.deleteFrom('login_lockouts').where('user_id', '=', userId).execute();
  });
}

/** Expired rows are deleted at most this often (per process). */
const SWEEP_INTERVAL_MS = 60_000;

export function createLockoutRepository(db: Kysely<Database>, policy: LockoutPolicy): LockoutRepository {
  const memoryMs = failureMemoryMs(policy);
  // The account's own budget lives in the lock columns of its users row, which accounts owns.
  const accountRow = accountLockColumns(db);
  let lastSweepMs = Number.NEGATIVE_INFINITY;

  /** The doubling schedule as literal steps, longest lock first: [failures, seconds of lock]. */
  const steps: Array<[number, number]> = [];
  for (let failures = policy.threshold; ; failures++) {
    const seconds = lockSecondsAfterFailures(failures, policy);
    steps.push([failures, seconds]);
    if (seconds >= policy.maxSeconds) break;
  }
  steps.reverse();

  /**
   * The SET list of a reservation at `now`, with `value(0)` the end of the count's memory and
   * `value(1 + i)` the end of step i's lock (reservationValues), so that the account's statement
   * can be compiled once with slots for them. Order matters: MySQL evaluates SET assignments left
   * to right, so locked_until and failed_attempts must come before failures_expire_at changes (and
   * locked_until before failed_attempts), each seeing the old values.
   */
  function reservation(now: number, value: (index: number) => number): CountedAttempt {
    // The failure count as it stands: zero once its memory has run out (NULL compares as not expired).
    const current = sql<number>`(case when failures_expire_at <= ${now} then 0 else failed_attempts end)`;
    // A CASE over the new failure count: portable, no pow().
    const branches = steps.map(([failures], i) => sql`when ${current} + 1 >= ${failures} then ${value(1 + i)}`);
    return {
      locked_until: sql<number | null>`case ${sql.join(branches, sql` `)} else locked_until end`,
      failed_attempts: sql<number>`${current} + 1`,
      failures_expire_at: value(0),
    };
  }

  /** The values of reservation's `value(i)` for an attempt at nowMs. */
  const reservationValues = (nowMs: number): number[] => [
    nowMs + memoryMs,
    ...steps.map(([, seconds]) => nowMs + seconds * 1000),
  ];

  const countOnAccount = accountAttemptCounter(reservation);

  async function sweep(nowMs: number): Promise<void> {
    if (nowMs - lastSweepMs < SWEEP_INTERVAL_MS) return;
    lastSweepMs = nowMs;
    await db.deleteFrom('login_lockouts').where('failures_expire_at', '<=', nowMs).execute();
  }

  async function reserveKeyed(key: string, userId: number | null, nowMs: number): Promise<boolean> {
    await sweep(nowMs);
    // The row may not exist yet (first failure) or may vanish (swept) between statements: retry.
    for (let round = 0; round < 3; round++) {
      const values = reservationValues(nowMs);
      const updated = await db
        .updateTable('login_lockouts')
        .set(reservation(nowMs, (index) => values[index] as number))
        .where('lockout_key', '=', key)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', nowMs)]))
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 1) return true;
      const existing = await db
        .selectFrom('login_lockouts')
        .select('lockout_key')
        .where('lockout_key', '=', key)
        .executeTakeFirst();
      if (existing) return false;
      const seconds = lockSecondsAfterFailures(1, policy);
      try {
        await db
          .insertInto('login_lockouts')
          .values({
            lockout_key: key,
            user_id: userId,
            failed_attempts: 1,
            locked_until: seconds > 0 ? nowMs + seconds * 1000 : null,
            failures_expire_at: nowMs + memoryMs,
          })
          .execute();
        return true;
      } catch (error) {
        // A parallel request inserted it first: count on that row instead.
        if (uniqueViolation(error) === null) throw error;
      }
    }
    return false;
  }

  return {
    async reserveAttempt(target, nowMs) {
      if (target.kind !== 'account')
        return reserveKeyed(target.key, target.kind === 'device' ? target.userId : null, nowMs);
      // One statement on its own (no transaction), so running it again after PostgreSQL or InnoDB
      // picked it as a deadlock victim counts the attempt once: an account's deletion (which locks
      // this users row, then its children) and a concurrent address change can close a cycle with it.
      return retryOnDeadlock(() => countOnAccount(db, target.userId, nowMs, reservationValues(nowMs)));
    },
    async refundAttempt(target) {
      // The attempt that reached the threshold may have set a lock; a right password lifts it again.
      if (target.kind === 'account') {
        await retryOnDeadlock(() => accountRow.refundAttempt(target.userId));
      } else {
        await db
          .updateTable('login_lockouts')
          .set({ locked_until: null, failed_attempts: sql`failed_attempts - 1` })
          .where('lockout_key', '=', target.key)
          .where('failed_attempts', '>', 0)
          .execute();
      }
    },
    async clearFailures(target) {
      // The account's own count is cleared with the login time, as the session opens (accounts' recordSignIn).
      await db.deleteFrom('login_lockouts').where('lockout_key', '=', target.key).execute();
    },
    async state(target) {
      const row =
        target.kind === 'account'
          ? await accountRow.lockState(target.userId)
          : await db
              .selectFrom('login_lockouts')
              .select(['failed_attempts', 'locked_until'])
              .where('lockout_key', '=', target.key)
              .executeTakeFirst();
      return (
        row && {
          failedAttempts: row.failed_attempts,
          lockedUntil: row.locked_until === null ? null : Number(row.locked_until),
        }
      );
    },
  };
}
