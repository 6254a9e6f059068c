import type { Kysely, Migration } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export function loginLockouts(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // When the account's untrusted-client failure count is forgotten (Keycloak's "failure reset
      // time"): unknown names forget theirs at the same moment, so neither answer tells them apart.
      await db.schema.alterTable('users').addColumn('failures_expire_at', 'bigint').execute();

      // Lockout budgets that are not an account's untrusted-client budget: one per unknown login
      // identifier (user_id null) and one per device cookie (user_id set). The key is an HMAC of the
      // identifier or the device nonce, so the table never holds either in the clear.
      await db.schema
        .createTable('login_lockouts')
        .addColumn('lockout_key', 'char(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('failed_attempts', 'integer', (c) => c.notNull())
        .addColumn('locked_until', 'bigint')
        .addColumn('failures_expire_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('login_lockouts_user_index').on('login_lockouts').column('user_id').execute();
      await db.schema
        .createIndex('login_lockouts_expires_index')
        .on('login_lockouts')
        .column('failures_expire_at')
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('login_lockouts').execute();
      await db.schema.alterTable('users').dropColumn('failures_expire_at').execute();
    },
  };
}
