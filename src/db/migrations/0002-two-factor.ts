import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../create-database.js';
import { idColumn } from './columns.js';

// Frozen: never edit a migration that has shipped; add a new one.
export function twoFactor(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('totp_factors')
        .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('secret_sealed', 'varchar(255)', (c) => c.notNull())
        .addColumn('confirmed_at', 'bigint')
        .addColumn('last_used_step', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('email_factors')
        .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('enabled_at', 'bigint', (c) => c.notNull())
        .execute();

      await idColumn(db.schema.createTable('email_codes'), dialect)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('purpose', 'varchar(20)', (c) => c.notNull())
        .addColumn('code_hash', 'char(64)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('email_codes_user_purpose_index')
        .on('email_codes')
        .columns(['user_id', 'purpose'])
        .execute();

      await idColumn(db.schema.createTable('backup_codes'), dialect)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('code_hash', 'char(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('backup_codes_user_code_unique')
        .on('backup_codes')
        .columns(['user_id', 'code_hash'])
        .unique()
        .execute();

      await db.schema
        .createTable('mfa_flows')
        .addColumn('token_hash', 'char(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('consumed_at', 'bigint')
        .execute();
      await db.schema.createIndex('mfa_flows_user_id_index').on('mfa_flows').column('user_id').execute();

      // No foreign key: the audit trail outlives the rows it talks about.
      await idColumn(db.schema.createTable('audit_events'), dialect)
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('type', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'integer')
        .addColumn('ip', 'varchar(64)')
        .addColumn('user_agent', 'varchar(255)')
        .addColumn('detail', 'varchar(2000)', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema.createIndex('audit_events_user_index').on('audit_events').columns(['user_id', 'id']).execute();
      await db.schema.createIndex('audit_events_type_index').on('audit_events').columns(['type', 'id']).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['audit_events', 'mfa_flows', 'backup_codes', 'email_codes', 'email_factors', 'totp_factors'])
        await db.schema.dropTable(table).execute();
    },
  };
}
