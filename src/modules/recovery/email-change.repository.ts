import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import { uniqueViolation } from '../../db/errors.js';
import type { Database } from '../../db/schema.js';
import { transactionWithRetry } from '../../db/transaction.js';
import { setVerifiedEmail } from '../accounts/accounts.repository.js';
import { inUserLockedTransaction } from '../accounts/user-lock.js';

export interface PendingEmailChange {
  userId: number;
  newEmail: string;
  expiresAtMs: number;
}

export interface NewEmailChange {
  userId: number;
  tokenHash: string;
  newEmail: string;
  nowMs: number;
  expiresAtMs: number;
}

/** `changed`: the address is the account's now; `spent`: no live change had this token (used, expired, replaced). */
export type ConfirmOutcome = 'changed' | 'spent' | 'taken';

export interface EmailChangeRepository {
  /** Stores the user's pending change, replacing an earlier one: only the newest link works. */
  replace(change: NewEmailChange): Promise<void>;
  /** The user's pending change while it is unexpired. */
  pendingOf(userId: number, nowMs: number): Promise<PendingEmailChange | undefined>;
  /** The pending change a token belongs to, while unexpired; consumes nothing. */
  findLive(tokenHash: string, nowMs: number): Promise<PendingEmailChange | undefined>;
  /**
   * In one transaction: spends the change (a guarded DELETE, so of concurrent uses of one token exactly
   * one goes on), makes its address the account's, verified, and deletes the account's outstanding
   * reset and verification links, which were mailed to the old address. `taken` when another account
   * holds the address by then (the unique index decides a race): nothing changes, and the link stays
   * until it expires.
   */
  confirm(change: PendingEmailChange, tokenHash: string, nowMs: number): Promise<ConfirmOutcome>;
}

export function createEmailChangeRepository(db: Kysely<Database>, dialect: Dialect): EmailChangeRepository {
  const toPending = (row: { user_id: number; new_email: string; expires_at: number }): PendingEmailChange => ({
    userId: row.user_id,
    newEmail: row.new_email,
    expiresAtMs: Number(row.expires_at),
  });
  const COLUMNS = ['user_id', 'new_email', 'expires_at'] as const;

  return {
    async replace(change) {
      // The user's row is locked first, so two requests at once leave exactly one pending change.
      await inUserLockedTransaction(db, dialect, change.userId, async (trx) => {
        await trx.deleteFrom('email_changes').where('user_id', '=', change.userId).execute();
        await trx
          .insertInto('email_changes')
          .values({
            user_id: change.userId,
            token_hash: change.tokenHash,
            new_email: change.newEmail,
            created_at: change.nowMs,
            expires_at: change.expiresAtMs,
          })
          .execute();
      });
    },
    async pendingOf(userId, nowMs) {
      const row = await db
        .selectFrom('email_changes')
        .select(COLUMNS)
        .where('user_id', '=', userId)
        .where('expires_at', '>', nowMs)
        .executeTakeFirst();
      return row && toPending(row);
    },
    async findLive(tokenHash, nowMs) {
      const row = await db
        .selectFrom('email_changes')
        .select(COLUMNS)
        .where('token_hash', '=', tokenHash)
        .where('expires_at', '>', nowMs)
        .executeTakeFirst();
      return row && toPending(row);
    },
    async confirm(change, tokenHash, nowMs) {
      try {
        return await transactionWithRetry(db, async (trx): Promise<ConfirmOutcome> => {
          const spent = await trx
            .deleteFrom('email_changes')
            .where('token_hash', '=', tokenHash)
            .where('user_id', '=', change.userId)
            .where('expires_at', '>', nowMs)
            .executeTakeFirst();
          if (Number(spent.numDeletedRows) !== 1) return 'spent';
          await setVerifiedEmail(trx, change.userId, change.newEmail, nowMs);
          // Links mailed to the old address must not act on the account once it has left it (OWASP
          // Forgot Password Cheat Sheet: outstanding reset tokens die when the account changes hands).
          await trx.deleteFrom('account_tokens').where('user_id', '=', change.userId).execute();
          return 'changed';
        });
      } catch (error) {
        // The UPDATE's unique violation rolled the whole transaction back, the DELETE with it.
        if (uniqueViolation(error) !== null) return 'taken';
        throw error;
      }
    },
  };
}
