import type { Insertable, Selectable } from 'kysely';
import type { ProductsTable } from '../../db/schema.js';
import type { Executor } from '../accounts/imported-users.repository.js';
import { countProducts } from '../products/products.repository.js';

export type { Executor } from '../accounts/imported-users.repository.js';

const PRODUCT_COLUMNS = ['id', 'legacy_id', 'name', 'description', 'price_cents', 'quantity'] as const;

export type ExistingProduct = Pick<Selectable<ProductsTable>, (typeof PRODUCT_COLUMNS)[number]>;

/**
 * The bulk reads and writes of `twofold import`; a batch of a few hundred rows per statement. The
 * accounts themselves are written by accounts (`importedUsers`), which owns the users table.
 */
export const importRepository = {
  async totpSecrets(
    db: Executor,
    userIds: number[],
  ): Promise<Array<{ user_id: number; secret_sealed: string; confirmed_at: number | null; created_at: number }>> {
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

  async productsByLegacyId(db: Executor, legacyIds: string[]): Promise<ExistingProduct[]> {
    if (legacyIds.length === 0) return [];
    return db.selectFrom('products').select(PRODUCT_COLUMNS).where('legacy_id', 'in', legacyIds).execute();
  },

  async insertProducts(db: Executor, products: Array<Insertable<ProductsTable>>): Promise<void> {
    if (products.length === 0) return;
    await db.insertInto('products').values(products).execute();
    await countProducts(db, products.length);
  },

  async updateProduct(
    db: Executor,
    id: number,
    changes: Pick<ExistingProduct, 'name' | 'description' | 'price_cents' | 'quantity'>,
    nowMs: number,
  ): Promise<void> {
    await db
      .updateTable('products')
      .set({ ...changes, updated_at: nowMs })
      .where('id', '=', id)
      .execute();
  },
};
