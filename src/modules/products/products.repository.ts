import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import { insertWithId } from '../../db/insert.js';
import type { Database, ProductsTable } from '../../db/schema.js';

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
  list(options: { limit: number; offset: number; nameContains?: string | undefined }): Promise<{ rows: ProductRow[]; total: number }>;
  findById(id: number): Promise<ProductRow | undefined>;
  insert(product: NewProduct): Promise<number>;
  update(id: number, changes: ProductChanges, nowMs: number): Promise<boolean>;
  delete(id: number): Promise<boolean>;
}

/** `%`, `_` and the escape character itself, escaped for LIKE … ESCAPE '!' (the same on all three databases). */
function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/** How long the unfiltered product count may be reused (see countAllCached). */
const TOTAL_TTL_MS = 1000;

export function createProductsRepository(db: Kysely<Database>, dialect: Dialect): ProductsRepository {
  // The unfiltered page is the hottest query of the service: built and compiled once, run with new parameters.
  const firstPage = db.selectFrom('products').selectAll().orderBy('id').limit(1).offset(0).compile();
  const countAll = db.selectFrom('products').select((eb) => eb.fn.countAll<number>().as('total')).compile();
  if (firstPage.parameters.join() !== '1,0') throw new TypeError(`unexpected parameter order in ${firstPage.sql}`);
  // Counting every product costs milliseconds per request once the table is large (bench: a million
  // rows). The unfiltered total is kept for up to TOTAL_TTL_MS and dropped at once by this instance's
  // own inserts and deletes; other instances' writes show within that time. A count that started
  // before a write (an older generation) is never kept.
  let total: { value: number; expiresAt: number; generation: number } | undefined;
  let generation = 0;
  const changed = (): void => {
    generation += 1;
    total = undefined;
  };
  async function countAllCached(): Promise<number> {
    const now = performance.now();
    if (total && total.generation === generation && total.expiresAt > now) return total.value;
    const started = generation;
    const count = await db.executeQuery<{ total: number }>(countAll);
    const value = Number(count.rows[0]?.total ?? 0);
    if (started === generation) total = { value, expiresAt: now + TOTAL_TTL_MS, generation };
    return value;
  }

  return {
    async list({ limit, offset, nameContains }) {
      if (!nameContains) {
        const [page, count] = await Promise.all([db.executeQuery<ProductRow>({ ...firstPage, parameters: [limit, offset] }), countAllCached()]);
        return { rows: page.rows, total: count };
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
    async insert(p) {
      changed();
      const id = await insertWithId(db, dialect, 'products', {
        name: p.name,
        description: p.description,
        price_cents: p.priceCents,
        quantity: p.quantity,
        created_by: p.createdBy,
        created_at: p.nowMs,
        updated_at: p.nowMs,
      });
      changed();
      return id;
    },
    async update(id, changes, nowMs) {
      const result = await db.updateTable('products').set({ ...changes, updated_at: nowMs }).where('id', '=', id).executeTakeFirst();
      // MySQL reports matched rows only when asked; a missing row is what matters here, so re-check on 0.
      if (Number(result.numUpdatedRows) > 0) return true;
      return (await db.selectFrom('products').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
    },
    async delete(id) {
      changed();
      const result = await db.deleteFrom('products').where('id', '=', id).executeTakeFirst();
      changed();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
