import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import type { Database } from '../../db/schema.js';
import { transactionWithRetry } from '../../db/transaction.js';

/**
 * The user's row is the lock of everything that belongs to the user, so the statement that takes it
 * lives with the users table, here, and the modules of those things (recovery's reset links,
 * two-factor's codes) call it.
 *
 * Runs `work` in a transaction that first locks the user's row (`SELECT … FOR UPDATE`; SQLite has a
 * single writer anyway), so two requests that replace one of the user's things — reset links, email
 * codes, backup codes — run one after the other: each sees the other's committed rows, exactly one
 * result remains, and a check-then-write (the email-code resend gap) holds. PostgreSQL's READ
 * COMMITTED would otherwise let each DELETE miss the other's new row; a transaction MariaDB still
 * picks as a deadlock victim is run again.
 */
export function inUserLockedTransaction<T>(
  db: Kysely<Database>,
  dialect: Dialect,
  userId: number,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return transactionWithRetry(db, async (trx) => {
    if (dialect !== 'sqlite') await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
    return work(trx);
  });
}
