import { sql, type Kysely, type Migration } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export function productCount(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // The number of products, kept by every insert and delete in the same transaction: the list's
      // `total` is then one row read instead of a count of the whole table (slow at a million rows).
      await db.schema
        .createTable('product_counts')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('n', 'bigint', (c) => c.notNull())
        .execute();
      await sql`insert into product_counts (id, n) select 1, count(*) from products`.execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('product_counts').execute();
    },
  };
}
