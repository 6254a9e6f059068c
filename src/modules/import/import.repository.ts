import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, ProductsTable, UsersTable } from '../../db/schema.js';
import { countProducts } from '../products/products.repository.js';

/** The database or a transaction: each batch runs on whichever the import chose. */
export type Executor = Kysely<Database>;

const USER_COLUMNS = [
  'id',
  'username_normalized',
  'email',
  'email_normalized',
  'email_verified',
  'password_hash',
  'role',
  'imported_at',
] as const;
const PRODUCT_COLUMNS = ['id', 'legacy_id', 'name', 'description', 'price_cents', 'quantity'] as const;

export type ExistingUser = Pick<Selectable<UsersTable>, (typeof USER_COLUMNS)[number]>;
export type ExistingProduct = Pick<Selectable<ProductsTable>, (typeof PRODUCT_COLUMNS)[number]>;
export type UserChanges = Pick<
  Selectable<UsersTable>,
  'email' | 'email_normalized' | 'email_verified' | 'password_hash' | 'role' | 'updated_at'
> & { imported_at: number };

/** The bulk reads and writes of `twofold import`; a batch of a few hundred rows per statement. */
export const importRepository = {
  async usersByUsername(db: Executor, normalized: string[]): Promise<ExistingUser[]> {
    if (normalized.length === 0) return [];
    return db.selectFrom('users').select(USER_COLUMNS).where('username_normalized', 'in', normalized).execute();
  },

  async userIdsByEmail(
    db: Executor,
    normalized: string[],
  ): Promise<Array<{ id: number; email_normalized: string | null }>> {
    if (normalized.length === 0) return [];
    return db
      .selectFrom('users')
      .select(['id', 'email_normalized'])
      .where('email_normalized', 'in', normalized)
      .execute();
  },

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

  async insertUsers(db: Executor, users: Array<Insertable<UsersTable>>): Promise<void> {
    if (users.length > 0) await db.insertInto('users').values(users).execute();
  },

  async updateUser(db: Executor, id: number, changes: UserChanges): Promise<void> {
    await db.updateTable('users').set(changes).where('id', '=', id).execute();
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
