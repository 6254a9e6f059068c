import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import type { Database } from '../../db/schema.js';
import { inUserLockedTransaction } from '../../db/user-lock.js';
import { emailLookupKey } from '../accounts/email-address.js';
import { liftEveryLock } from '../lockout/lockout.repository.js';

export type AccountTokenPurpose = 'password_reset' | 'email_verify';

/** What the recovery flows need to know about an account. */
export interface RecoveryAccount {
  id: number;
  username: string;
  email: string | null;
  emailVerified: boolean;
}

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

const ACCOUNT_COLUMNS = ['id', 'username', 'email', 'email_verified'] as const;

function toAccount(row: {
  id: number;
  username: string;
  email: string | null;
  email_verified: number;
}): RecoveryAccount {
  return { id: row.id, username: row.username, email: row.email, emailVerified: Boolean(row.email_verified) };
}

export function createRecoveryRepository(db: Kysely<Database>, dialect: Dialect): RecoveryRepository {
  return {
    async findAccountByEmail(email) {
      const key = emailLookupKey(email);
      if (key === null) return undefined;
      const row = await db
        .selectFrom('users')
        .select(ACCOUNT_COLUMNS)
        .where('email_normalized', '=', key)
        .executeTakeFirst();
      return row && toAccount(row);
    },
    async findAccountById(id) {
      const row = await db.selectFrom('users').select(ACCOUNT_COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && toAccount(row);
    },
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
    async markEmailVerified(userId, nowMs, whileEmailKey) {
      let update = db.updateTable('users').set({ email_verified: 1, updated_at: nowMs }).where('id', '=', userId);
      if (whileEmailKey !== undefined) update = update.where('email_normalized', '=', whileEmailKey);
      await update.execute();
    },
    liftLocks: (userId, nowMs) => liftEveryLock(db, userId, { adminLockToo: false, nowMs }),
  };
}
