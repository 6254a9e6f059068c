import type { Kysely, Transaction } from 'kysely';
import { retryOnDeadlock } from './errors.js';
import type { Database } from './schema.js';

/**
 * Every transaction of the service: `work` runs in one transaction, and runs again from the start
 * when PostgreSQL or InnoDB picked that transaction as a deadlock victim and rolled it back (the
 * remedy both document; see `isDeadlock`). `work` must therefore act on the database only: nothing
 * it does outside `trx` is undone by the rollback. ESLint refuses `db.transaction()` elsewhere in
 * src/, so a new transaction gets the retry without anyone remembering it.
 */
export function transactionWithRetry<T>(
  db: Kysely<Database>,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return retryOnDeadlock(() => db.transaction().execute(work));
}
