import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import { insertWithId } from '../../db/insert.js';
import type { Database, ProductsTable } from '../../db/schema.js';
import { likeContains } from '../../db/like.js';
import { transactionWithRetry } from '../../db/transaction.js';

export type ProductRow = Selectable<ProductsTable>;
export type ProductChanges = Pick<Updateable<ProductsTable>, 'name' | 'description' | 'price_cents' | 'quantity'>;

export interface NewProduct {
  name: string;
  description: string;
  priceCents: number;
  quantity: number;
  createdBy: number | null;
  nowMs: number;
}

export interface ProductsRepository {
  list(options: {
    limit: number;
    offset: number;
    nameContains?: string | undefined;
  }): Promise<{ rows: ProductRow[]; total: number }>;
  findById(id: number): Promise<ProductRow | undefined>;
  insert(product: NewProduct): Promise<number>;
  update(id: number, changes: ProductChanges, nowMs: number): Promise<boolean>;
  delete(id: number): Promise<boolean>;
}

/**
 * Keeps product_counts in step with the table, inside the transaction of the insert or delete
 * (migration 0005): the list's total is one row read, exact, on every instance.
 */
export async function countProducts(db: Kysely<Database>, delta: number): Promise<void> {
  if (delta !== 0)
    await db
      .updateTable('product_counts')
      .set((eb) => ({ n: eb('n', '+', delta) }))
      .where('id', '=', 1)
      .execute();
}

export function createProductsRepository(db: Kysely<Database>, dialect: Dialect): ProductsRepository {
  // The unfiltered page is the hottest query of the service: built and compiled once, run with new parameters.
  const firstPage = db.selectFrom('products').selectAll().orderBy('id').limit(1).offset(0).compile();
  const countAll = db.selectFrom('product_counts').select('n as total').where('id', '=', 1).compile();
  if (firstPage.parameters.join() !== '1,0') throw new TypeError(`unexpected parameter order in ${firstPage.sql}`);
  return {
    async list({ limit, offset, nameContains }) {
      if (!nameContains) {
        const [page, count] = await Promise.all([
          db.executeQuery<ProductRow>({ ...firstPage, parameters: [limit, offset] }),
          db.executeQuery<{ total: number }>(countAll),
        ]);
        return { rows: page.rows, total: Number(count.rows[0]?.total ?? 0) };
      }
      let base = db.selectFrom('products');
      if (nameContains) base = base.where(sql<boolean>`lower(name) like ${likeContains(nameContains)} escape '!'`);
      const [rows, count] = await Promise.all([
        base.selectAll().orderBy('id').limit(limit).offset(offset).execute(),
        base.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
      ]);
      return { rows, total: Number(count.total) };
    },
    findById: (id) => db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst(),
    insert: (p) =>
      transactionWithRetry(db, async (trx) => {
        const id = await insertWithId(trx, dialect, 'products', {
          name: p.name,
          description: p.description,
          price_cents: p.priceCents,
          quantity: p.quantity,
          created_by: p.createdBy,
          created_at: p.nowMs,
          updated_at: p.nowMs,
        });
        await countProducts(trx, 1);
        return id;
      }),
    async update(id, changes, nowMs) {
      const result = await db
        .updateTable('products')
        .set({ ...changes, updated_at: nowMs })
        .where('id', '=', id)
        .executeTakeFirst();
      // MySQL reports matched rows only when asked; a missing row is what matters here, so re-check on 0.
      if (Number(result.numUpdatedRows) > 0) return true;
      return (await db.selectFrom('products').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
    },
    async delete(id) {
      return transactionWithRetry(db, async (trx) => {
        const result = await trx.deleteFrom('products').where('id', '=', id).executeTakeFirst();
        const deleted = Number(result.numDeletedRows) === 1;
        if (deleted) await countProducts(trx, -1);
        return deleted;
      });
    },
  };
}
