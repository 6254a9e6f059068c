import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import type { Database } from '../../db/schema.js';
import { createAccountsRepository, type AccountContact } from '../accounts/accounts.repository.js';
import { inUserLockedTransaction } from '../accounts/user-lock.js';
import { liftEveryLock } from '../lockout/lockout.repository.js';

export type AccountTokenPurpose = 'password_reset' | 'email_verify';

/** What the recovery flows need to know about an account (read by accounts, which owns the users table). */
export type RecoveryAccount = AccountContact;

export interface LiveToken {
  userId: number;
}

export interface NewAccountToken {
  tokenHash: string;
  userId: number;
  purpose: AccountTokenPurpose;
  nowMs: number;
  expiresAtMs: number;
}

export interface RecoveryRepository {
  /** Case-insensitive, like sign-in by email. */
  findAccountByEmail(email: string): Promise<RecoveryAccount | undefined>;
  findAccountById(id: number): Promise<RecoveryAccount | undefined>;
  /** Stores a token and deletes every earlier token of the same user and purpose: only the newest link works. */
  replaceToken(token: NewAccountToken): Promise<void>;
  /** The token's owner when it exists for `purpose`, is unused and unexpired; consumes nothing. */
  findLiveToken(tokenHash: string, purpose: AccountTokenPurpose, nowMs: number): Promise<LiveToken | undefined>;
  /** Guarded single use: true only for the one caller whose UPDATE changed the row. */
  consumeToken(tokenHash: string, purpose: AccountTokenPurpose, nowMs: number): Promise<boolean>;
  /**
   * Marks the account's address verified; with `whileEmailKey`, only while the account still has
   * that address (its lookup key), so a proof of an address the account has just left counts for nothing.
   */
  markEmailVerified(userId: number, nowMs: number, whileEmailKey?: string): Promise<void>;
  /**
   * Lifts every brute-force lock of the account (untrusted clients and each device cookie); an administrator's lock
   * stays.
   */
  liftLocks(userId: number, nowMs: number): Promise<void>;
}

/**
 * Deletes the account's outstanding reset links, on the transaction that sets its new password
 * (accounts' `PasswordChangedHook`, wired in src/services.ts): a link mailed before a password change
 * must not undo it (OWASP Forgot Password Cheat Sheet: tokens are invalidated when the password
 * changes). Email verification links stay: they carry no password.
 */
export async function deletePasswordResetLinks(trx: Kysely<Database>, userId: number): Promise<void> {
  await trx
    .deleteFrom('account_tokens')
    .where('user_id', '=', userId)
    .where('purpose', '=', 'password_reset')
    .execute();
}

export function createRecoveryRepository(db: Kysely<Database>, dialect: Dialect): RecoveryRepository {
  // The account's row is accounts'; this repository owns the tokens (`account_tokens`).
  const accounts = createAccountsRepository(db, dialect);
  return {
    findAccountByEmail: (email) => accounts.findContactByEmail(email),
    findAccountById: (id) => accounts.findContactById(id),
    async replaceToken(token) {
      // Two links asked for at once (a new account's verification and a reset) neither fail nor both stay live.
      await inUserLockedTransaction(db, dialect, token.userId, async (trx) => {
        await trx
          .deleteFrom('account_tokens')
          .where('user_id', '=', token.userId)
          .where('purpose', '=', token.purpose)
          .execute();
        await trx
          .insertInto('account_tokens')
          .values({
            token_hash: token.tokenHash,
            user_id: token.userId,
            purpose: token.purpose,
            created_at: token.nowMs,
            expires_at: token.expiresAtMs,
            used_at: null,
          })
          .execute();
      });
    },
    async findLiveToken(tokenHash, purpose, nowMs) {
      const row = await db
        .selectFrom('account_tokens')
        .select('user_id')
        .where('token_hash', '=', tokenHash)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', nowMs)
        .executeTakeFirst();
      return row && { userId: row.user_id };
    },
    async consumeToken(tokenHash, purpose, nowMs) {
      const result = await db
        .updateTable('account_tokens')
        .set({ used_at: nowMs })
        .where('token_hash', '=', tokenHash)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', nowMs)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    markEmailVerified: (userId, nowMs, whileEmailKey) => accounts.markEmailVerified(userId, nowMs, whileEmailKey),
    liftLocks: (userId, nowMs) => liftEveryLock(db, userId, { adminLockToo: false, nowMs }),
  };
}
