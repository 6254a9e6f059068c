import { sql, type Kysely, type RawBuilder } from 'kysely';
import { compiledOnce } from '../../db/compiled.js';
import type { Database } from '../../db/schema.js';

/*
 * The lock columns of a user's row (`failed_attempts`, `locked_until`, `failures_expire_at`). They
 * live in the users table, which this module owns: the lockout module counts failures and locks in
 * them through `accountAttemptCounter` and `accountLockColumns` below, a finished login clears them
 * (accounts.repository's recordSignIn), an administrator locks with ADMIN_LOCK_UNTIL_MS. Their
 * meaning and every statement on them are written once, here, below all three.
 */

/** `locked_until` of an administrator's lock: until unlocked, never lifted by a login or a timer. */
export const ADMIN_LOCK_UNTIL_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Clears a brute-force lock but leaves an administrator's lock in place. */
export const liftBruteForceLock = sql<
  number | null
>`case when locked_until >= ${ADMIN_LOCK_UNTIL_MS} then locked_until else null end`;

/** An account's brute-force failures forgotten and its brute-force lock lifted (an administrator's lock stays). */
export const clearedFailures = {
  failed_attempts: 0,
  locked_until: liftBruteForceLock,
  failures_expire_at: null,
} as const;

/**
 * The SET list that counts one attempt, written by the lockout policy over the row's current values
 * (the new count, the lock it reaches, how long the count is remembered). Key order is statement
 * order: MySQL evaluates SET assignments left to right, each seeing the values before it.
 */
export interface CountedAttempt {
  locked_until: RawBuilder<number | null>;
  failed_attempts: RawBuilder<number>;
  failures_expire_at: number;
}

/**
 * The policy's SET list over the attempt's time `now` and the policy's own values `value(i)` (the
 * times its locks and its memory end). Both stand for bound parameters: the statement is compiled
 * once and every attempt sends only its values.
 */
export type CountedAttemptOver = (now: number, value: (index: number) => number) => CountedAttempt;

/**
 * Counts one attempt on an account's row unless it is locked (`locked_until` unset or past), in one
 * UPDATE whose WHERE refuses a locked row: the database, not the caller, reads and changes the
 * count, so parallel attempts on every instance never get more than the budget. Every sign-in sends
 * it, so it is compiled once for the policy's SET list (`counted`, src/db/compiled.ts). True when
 * counted; false when locked (or no row).
 */
export type AttemptCounter = (
  db: Kysely<Database>,
  userId: number,
  nowMs: number,
  values: readonly number[],
) => Promise<boolean>;

export function accountAttemptCounter(counted: CountedAttemptOver): AttemptCounter {
  const statement = compiledOnce<[userId: number, nowMs: number, ...values: number[]], never>((db, arg) =>
    db
      .updateTable('users')
      .set(counted(arg(1), (index) => arg(index + 2)))
      .where('id', '=', arg(0))
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', arg(1))])),
  );
  return async (db, userId, nowMs, values) =>
    Number((await statement(db, userId, nowMs, ...values)).numAffectedRows ?? 0) === 1;
}

/** The lock columns of an account's row as they stand. */
export interface AccountLockState {
  failed_attempts: number;
  locked_until: number | null;
}

/**
 * Every statement on the lock columns of the users table, for the lockout module (the account's
 * budget for clients without a device cookie) and the administrator's lock. Each is one atomic
 * statement: the database, not the caller, reads and changes the count, so parallel attempts on
 * every instance sharing the database never get more than the budget.
 */
export interface AccountLockColumns {
  /** Gives back one counted attempt (never below zero) and lifts a brute-force lock, in one statement. */
  refundAttempt(userId: number): Promise<void>;
  lockState(userId: number): Promise<AccountLockState | undefined>;
  /** An administrator's lock (ADMIN_LOCK_UNTIL_MS): only an administrator's unlock lifts it. */
  lockByAdministrator(userId: number, nowMs: number): Promise<void>;
  /**
   * Forgets the failures and lifts the brute-force lock; with `adminLockToo` the administrator's lock
   * as well (and the row's `updated_at`, as for any administrator's change).
   */
  clearLocks(userId: number, options: { adminLockToo: boolean; nowMs: number }): Promise<void>;
}

/** The lock columns through `db`, which may be a transaction (the lockout module's lifting of every lock). */
export function accountLockColumns(db: Kysely<Database>): AccountLockColumns {
  return {
    async refundAttempt(userId) {
      // The attempt that reached the threshold may have set a lock; a right password lifts it again.
      await db
        .updateTable('users')
        .set({ locked_until: liftBruteForceLock, failed_attempts: sql`failed_attempts - 1` })
        .where('id', '=', userId)
        .where('failed_attempts', '>', 0)
        .execute();
    },
    lockState: (userId) =>
      db.selectFrom('users').select(['failed_attempts', 'locked_until']).where('id', '=', userId).executeTakeFirst(),
    async lockByAdministrator(userId, nowMs) {
      await db
        .updateTable('users')
        .set({ locked_until: ADMIN_LOCK_UNTIL_MS, updated_at: nowMs })
        .where('id', '=', userId)
        .execute();
    },
    async clearLocks(userId, { adminLockToo, nowMs }) {
      await db
        .updateTable('users')
        .set({ ...clearedFailures, ...(adminLockToo ? { locked_until: null, updated_at: nowMs } : {}) })
        .where('id', '=', userId)
        .execute();
    },
  };
}
