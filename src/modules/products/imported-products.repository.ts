import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, ProductsTable } from '../../db/schema.js';
import { countProducts } from './products.repository.js';

/** The database or a transaction: each batch of `twofold import` runs on whichever the import chose. */
type Executor = Kysely<Database>;

const PRODUCT_COLUMNS = ['id', 'legacy_id', 'name', 'description', 'price_cents', 'quantity'] as const;

/** What the import compares a product it imported before with. */
export type ExistingProduct = Pick<Selectable<ProductsTable>, (typeof PRODUCT_COLUMNS)[number]>;

/**
 * The products-table statements of `twofold import` (the import module plans, this module writes):
 * bulk reads and writes, a batch of a few hundred rows per statement, on the executor the import chose.
 */
export const importedProducts = {
  async productsByLegacyId(db: Executor, legacyIds: string[]): Promise<ExistingProduct[]> {
    if (legacyIds.length === 0) return [];
    return db.selectFrom('products').select(PRODUCT_COLUMNS).where('legacy_id', 'in', legacyIds).execute();
  },

  /** The new products and product_counts kept in step, on the batch's executor. */
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
