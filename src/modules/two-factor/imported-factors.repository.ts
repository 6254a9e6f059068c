import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/** The database or a transaction: each batch of `twofold import` runs on whichever the import chose. */
type Executor = Kysely<Database>;

/** A user's TOTP factor as the import compares it with the source's. */
export interface ImportedTotpRow {
  user_id: number;
  secret_sealed: string;
  confirmed_at: number | null;
  created_at: number;
}

/**
 * The factor-table statements of `twofold import` (the import module plans, this module writes): bulk
 * reads and writes, a batch of a few hundred rows per statement, on the executor the import chose.
 */
export const importedFactors = {
  async totpSecrets(db: Executor, userIds: number[]): Promise<ImportedTotpRow[]> {
    if (userIds.length === 0) return [];
    return db
      .selectFrom('totp_factors')
      .select(['user_id', 'secret_sealed', 'confirmed_at', 'created_at'])
      .where('user_id', 'in', userIds)
      .execute();
  },

  async emailFactorUsers(db: Executor, userIds: number[]): Promise<number[]> {
    if (userIds.length === 0) return [];
    const rows = await db.selectFrom('email_factors').select('user_id').where('user_id', 'in', userIds).execute();
    return rows.map((r) => r.user_id);
  },

  /** An enabled (confirmed) TOTP factor, replacing any earlier one of the user. */
  async replaceTotp(
    db: Executor,
    factors: Array<{ userId: number; secretSealed: string }>,
    nowMs: number,
  ): Promise<void> {
    if (factors.length === 0) return;
    await db
      .deleteFrom('totp_factors')
      .where(
        'user_id',
        'in',
        factors.map((f) => f.userId),
      )
      .execute();
    await db
      .insertInto('totp_factors')
      .values(
        factors.map((f) => ({
          user_id: f.userId,
          secret_sealed: f.secretSealed,
          confirmed_at: nowMs,
          last_used_step: null,
          created_at: nowMs,
        })),
      )
      .execute();
  },

  async enableEmailFactor(db: Executor, userIds: number[], nowMs: number): Promise<void> {
    if (userIds.length > 0)
      await db
        .insertInto('email_factors')
        .values(userIds.map((user_id) => ({ user_id, enabled_at: nowMs })))
        .execute();
  },
};
