import type { Kysely, Migration } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export function protection(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Per-account brute-force state (Keycloak-style): consecutive failures and the lock they caused.
      await db.schema
        .alterTable('users')
        .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('users').addColumn('locked_until', 'bigint').execute();

      // Single-use tokens mailed to the account: password reset and email verification.
      await db.schema
        .createTable('account_tokens')
        .addColumn('token_hash', 'char(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('purpose', 'varchar(20)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('account_tokens_user_purpose_index')
        .on('account_tokens')
        .columns(['user_id', 'purpose'])
        .execute();

      // Fixed-window request counters for the per-IP limiter when Redis is not configured.
      await db.schema
        .createTable('rate_counters')
        .addColumn('counter_key', 'varchar(191)', (c) => c.primaryKey())
        .addColumn('hits', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('rate_counters_expires_index').on('rate_counters').column('expires_at').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('rate_counters').execute();
      await db.schema.dropTable('account_tokens').execute();
      await db.schema.alterTable('users').dropColumn('locked_until').execute();
      await db.schema.alterTable('users').dropColumn('failed_attempts').execute();
    },
  };
}
