import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import type { Database } from '../../db/schema.js';
import { transactionWithRetry } from '../../db/transaction.js';
import { removeAccount, type AccountRemoval } from '../accounts/account-removal.js';
import { eraseUserTrail } from '../audit/audit-erasure.js';
import { recordInTransaction, type AuditEvent } from '../audit/audit.service.js';

export interface PrivacyRepository {
  /**
   * One transaction: the account's row goes (and, by the foreign keys, everything of it), its
   * audit events lose the personal data in them, and `event` (the deletion's own line) is written.
   * All of it or, when the account is not deleted (see AccountRemoval), none of it.
   */
  deleteAccount(input: {
    userId: number;
    actingAdminId?: number | undefined;
    event: AuditEvent;
    nowMs: number;
  }): Promise<AccountRemoval['outcome']>;
}

/** The statements are their owners': accounts deletes the row, audit erases and records. */
export function createPrivacyRepository(db: Kysely<Database>, dialect: Dialect): PrivacyRepository {
  return {
    deleteAccount: ({ userId, actingAdminId, event, nowMs }) =>
      // The cascades take locks on many tables: InnoDB or PostgreSQL picks this transaction as a
      // deadlock victim now and then, and transactionWithRetry runs it again from the start.
      transactionWithRetry(db, async (trx) => {
        const removal = await removeAccount(trx, dialect, userId, actingAdminId);
        if (removal.outcome !== 'deleted') return removal.outcome;
        await eraseUserTrail(trx, userId, removal.account);
        await recordInTransaction(trx, [event], nowMs);
        return removal.outcome;
      }),
  };
}
