import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../create-database.js';
import { idColumn } from './columns.js';

// Frozen: never edit a migration that has shipped; add a new one.
export function initial(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await idColumn(db.schema.createTable('users'), dialect)
        .addColumn('username', 'varchar(50)', (c) => c.notNull())
        .addColumn('username_normalized', 'varchar(50)', (c) => c.notNull())
        .addColumn('email', 'varchar(255)')
        .addColumn('email_normalized', 'varchar(255)')
        .addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('role', 'varchar(20)', (c) => c.notNull().defaultTo('user'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_login_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('users_username_normalized_unique')
        .on('users')
        .column('username_normalized')
        .unique()
        .execute();
      await db.schema
        .createIndex('users_email_normalized_unique')
        .on('users')
        .column('email_normalized')
        .unique()
        .execute();

      await idColumn(db.schema.createTable('sessions'), dialect)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('amr', 'varchar(50)', (c) => c.notNull())
        .addColumn('user_agent', 'varchar(255)')
        .addColumn('ip', 'varchar(64)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('sessions_user_id_index').on('sessions').column('user_id').execute();

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('token_hash', 'char(64)', (c) => c.primaryKey())
        .addColumn('session_id', 'integer', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('refresh_tokens_session_id_index')
        .on('refresh_tokens')
        .column('session_id')
        .execute();

      await idColumn(db.schema.createTable('products'), dialect)
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .addColumn('description', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('price_cents', 'bigint', (c) => c.notNull())
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['products', 'refresh_tokens', 'sessions', 'users'])
        await db.schema.dropTable(table).execute();
    },
  };
}
