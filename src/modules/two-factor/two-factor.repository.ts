import type { Kysely, Selectable } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import { compiledOnce } from '../../db/compiled.js';
import { insertWithId } from '../../db/insert.js';
import { transactionWithRetry } from '../../db/transaction.js';
import { inUserLockedTransaction } from '../accounts/user-lock.js';
import { hasPasskeyExists } from '../passkeys/passkey-flag.js';
import { factorsOn, type FactorFlags } from './factor-flags.js';
import type { Database, EmailCodesTable, MfaFlowsTable } from '../../db/schema.js';
import {
  createTotpAuthenticatorsRepository,
  FACTOR_TABLES,
  type TotpAuthenticatorsRepository,
} from './totp-authenticators.repository.js';

export type { TotpRow } from './totp-authenticators.repository.js';
export type EmailCodeRow = Selectable<EmailCodesTable>;
export type FlowRow = Selectable<MfaFlowsTable>;

/** Wrong codes allowed per email code and per login flow before it dies. */
export const MAX_CODE_ATTEMPTS = 5;

export interface TwoFactorRepository extends TotpAuthenticatorsRepository {
  isEmailEnabled(userId: number): Promise<boolean>;
  /** Which second factors are on (a confirmed TOTP factor; the email factor), in one query. */
  enabledFactors(userId: number): Promise<{ totp: boolean; email: boolean; passkey: boolean }>;
  enableEmail(userId: number, nowMs: number): Promise<void>;
  latestEmailCode(userId: number, purpose: string): Promise<EmailCodeRow | undefined>;
  /**
   * Replaces the user's code for `purpose`, unless one was created after `notBeforeMs` (a resend too
   * soon): false then, and nothing changes. Checked under the user's row lock, so of parallel
   * requests exactly one replaces the code.
   */
  replaceEmailCode(
    userId: number,
    purpose: string,
    codeHash: string,
    nowMs: number,
    expiresAtMs: number,
    notBeforeMs: number,
  ): Promise<boolean>;
  reserveEmailCodeAttempt(id: number, nowMs: number): Promise<boolean>;
  consumeEmailCode(id: number, nowMs: number): Promise<boolean>;
  replaceBackupCodes(userId: number, codeHashes: string[], nowMs: number): Promise<void>;
  consumeBackupCode(userId: number, codeHash: string, nowMs: number): Promise<boolean>;
  countBackupCodes(userId: number): Promise<number>;
  insertFlow(
    tokenHash: string,
    userId: number,
    nowMs: number,
    expiresAtMs: number,
    firstFactor?: 'pwd' | 'hwk',
  ): Promise<void>;
  findFlow(tokenHash: string): Promise<FlowRow | undefined>;
  reserveFlowAttempt(tokenHash: string, nowMs: number): Promise<boolean>;
  consumeFlow(tokenHash: string, nowMs: number): Promise<boolean>;
  /** Removes every second factor, code and pending flow of the user. */
  removeAll(userId: number): Promise<void>;
}

/**
 * Removes every code factor of the user (authenticator apps, email codes, backup codes) and the
 * sign-ins waiting for one, on the caller's executor: 2fa/disable's own transaction, or the
 * administration's reset, which removes the passkeys in the same one.
 */
export async function removeCodeFactors(trx: Kysely<Database>, userId: number): Promise<void> {
  for (const table of FACTOR_TABLES) await trx.deleteFrom(table).where('user_id', '=', userId).execute();
}

function changed(result: { numUpdatedRows: bigint }): boolean {
  return Number(result.numUpdatedRows) === 1;
}

export function createTwoFactorRepository(db: Kysely<Database>, dialect: Dialect): TwoFactorRepository {
  // Read on every sign-in (which second step follows the password), so compiled once (compiled.ts).
  const factorsOf = compiledOnce<[userId: number], FactorFlags>((qb, arg) =>
    qb.selectNoFrom((eb) => [
      eb
        .exists(
          eb
            .selectFrom('totp_factors')
            .select('user_id')
            .where('user_id', '=', arg(0))
            .where('confirmed_at', 'is not', null),
        )
        .as('totp'),
      eb.exists(eb.selectFrom('email_factors').select('user_id').where('user_id', '=', arg(0))).as('email_factor'),
      hasPasskeyExists(eb, eb.val<number>(arg(0))).as('passkey'),
    ]),
  );
  return {
    ...createTotpAuthenticatorsRepository(db, dialect),
    async isEmailEnabled(userId) {
      return (
        (await db.selectFrom('email_factors').select('user_id').where('user_id', '=', userId).executeTakeFirst()) !==
        undefined
      );
    },
    async enabledFactors(userId) {
      // A select without FROM answers exactly one row.
      const [row] = (await factorsOf(db, userId)).rows;
      return factorsOn(row ?? { totp: false, email_factor: false, passkey: false });
    },
    async enableEmail(userId, nowMs) {
      if (await this.isEmailEnabled(userId)) return;
      await db.insertInto('email_factors').values({ user_id: userId, enabled_at: nowMs }).execute();
    },
    latestEmailCode: (userId, purpose) =>
      db
        .selectFrom('email_codes')
        .selectAll()
        .where('user_id', '=', userId)
        .where('purpose', '=', purpose)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst(),
    async replaceEmailCode(userId, purpose, codeHash, nowMs, expiresAtMs, notBeforeMs) {
      // Under the user's lock the resend gap is read and written as one: of parallel requests one wins.
      return inUserLockedTransaction(db, dialect, userId, async (trx) => {
        const recent = await trx
          .selectFrom('email_codes')
          .select('id')
          .where('user_id', '=', userId)
          .where('purpose', '=', purpose)
          .where('created_at', '>', notBeforeMs)
          .executeTakeFirst();
        if (recent) return false;
        await trx.deleteFrom('email_codes').where('user_id', '=', userId).where('purpose', '=', purpose).execute();
        await insertWithId(trx, dialect, 'email_codes', {
          user_id: userId,
          purpose,
          code_hash: codeHash,
          created_at: nowMs,
          expires_at: expiresAtMs,
          used_at: null,
        });
        return true;
      });
    },
    async reserveEmailCodeAttempt(id, nowMs) {
      return changed(
        await db
          .updateTable('email_codes')
          .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
          .where('id', '=', id)
          .where('used_at', 'is', null)
          .where('expires_at', '>', nowMs)
          .where('attempts', '<', MAX_CODE_ATTEMPTS)
          .executeTakeFirst(),
      );
    },
    async consumeEmailCode(id, nowMs) {
      return changed(
        await db
          .updateTable('email_codes')
          .set({ used_at: nowMs })
          .where('id', '=', id)
          .where('used_at', 'is', null)
          .executeTakeFirst(),
      );
    },
    async replaceBackupCodes(userId, codeHashes, nowMs) {
      // Two regenerations at once leave one set of codes, never both.
      await inUserLockedTransaction(db, dialect, userId, async (trx) => {
        await trx.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
        await trx
          .insertInto('backup_codes')
          .values(codeHashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: nowMs, used_at: null })))
          .execute();
      });
    },
    async consumeBackupCode(userId, codeHash, nowMs) {
      return changed(
        await db
          .updateTable('backup_codes')
          .set({ used_at: nowMs })
          .where('user_id', '=', userId)
          .where('code_hash', '=', codeHash)
          .where('used_at', 'is', null)
          .executeTakeFirst(),
      );
    },
    async countBackupCodes(userId) {
      const row = await db
        .selectFrom('backup_codes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async insertFlow(tokenHash, userId, nowMs, expiresAtMs, firstFactor = 'pwd') {
      await db
        .insertInto('mfa_flows')
        .values({
          token_hash: tokenHash,
          user_id: userId,
          created_at: nowMs,
          expires_at: expiresAtMs,
          consumed_at: null,
          first_factor: firstFactor,
        })
        .execute();
    },
    findFlow: (tokenHash) =>
      db.selectFrom('mfa_flows').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst(),
    async reserveFlowAttempt(tokenHash, nowMs) {
      return changed(
        await db
          .updateTable('mfa_flows')
          .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
          .where('token_hash', '=', tokenHash)
          .where('consumed_at', 'is', null)
          .where('expires_at', '>', nowMs)
          .where('attempts', '<', MAX_CODE_ATTEMPTS)
          .executeTakeFirst(),
      );
    },
    async consumeFlow(tokenHash, nowMs) {
      return changed(
        await db
          .updateTable('mfa_flows')
          .set({ consumed_at: nowMs })
          .where('token_hash', '=', tokenHash)
          .where('consumed_at', 'is', null)
          .executeTakeFirst(),
      );
    },
    async removeAll(userId) {
      await transactionWithRetry(db, (trx) => removeCodeFactors(trx, userId));
    },
  };
}
