import { sql } from 'kysely';

/*
 * The lock columns of a user's row (`failed_attempts`, `locked_until`, `failures_expire_at`). They
 * live in the users table, which this module owns: the lockout module counts failures and locks in
 * them, a finished login clears them (accounts.repository's recordLogin), an administrator locks
 * with ADMIN_LOCK_UNTIL_MS. Their meaning is written once, here, below all three.
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
