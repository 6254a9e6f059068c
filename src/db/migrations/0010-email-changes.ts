import type { Kysely, Migration } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export function emailChanges(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // A signed-in person's request to add or change their address, until the new address proves
      // itself with the mailed link: at most one per user (the primary key), a new request replaces
      // it. The account's address (users.email) changes only when the link is used. The token is
      // kept only as its SHA-256, like account_tokens (OWASP Forgot Password Cheat Sheet).
      await db.schema
        .createTable('email_changes')
        .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('token_hash', 'char(64)', (c) => c.notNull().unique())
        .addColumn('new_email', 'varchar(254)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('email_changes').execute();
    },
  };
}
