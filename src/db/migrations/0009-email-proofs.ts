import type { Kysely, Migration } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export function emailProofs(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Stand-alone email codes ("prove you control this address", outside any sign-in): at most one
      // pending code per address. The address is kept only as a keyed hash of its lookup form and the
      // code only as a keyed hash bound to that address, so a copy of the table names no address and
      // holds no code (NIST SP 800-63B §5.1.3.2: out-of-band secrets are stored hashed).
      await db.schema
        .createTable('email_proofs')
        .addColumn('address_key', 'char(64)', (c) => c.primaryKey())
        .addColumn('code_hash', 'char(64)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('email_proofs_expires_index').on('email_proofs').column('expires_at').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('email_proofs').execute();
    },
  };
}
