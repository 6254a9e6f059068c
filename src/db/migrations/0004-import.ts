import type { Kysely, Migration } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export function legacyImport(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // The original app's product id, recorded by `twofold import` so a second run finds what the
      // first one brought over. Null for products created in Twofold.
      await db.schema.alterTable('products').addColumn('legacy_id', 'varchar(64)').execute();
      await db.schema.createIndex('products_legacy_id_unique').on('products').column('legacy_id').unique().execute();
      // When `twofold import` created or last updated the account; a repeated import recognises its own work by it.
      await db.schema.alterTable('users').addColumn('imported_at', 'bigint').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('users').dropColumn('imported_at').execute();
      await db.schema.dropIndex('products_legacy_id_unique').on('products').execute();
      await db.schema.alterTable('products').dropColumn('legacy_id').execute();
    },
  };
}
