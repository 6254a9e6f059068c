import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../create-database.js';
import { idColumn } from './columns.js';

// Frozen: never edit a migration that has shipped; add a new one.
// Its own copy of the default name (not an import from the two-factor module): a migration must keep
// doing what it did when it shipped.
const DEFAULT_NAME = 'Authenticator app';

export function totpAuthenticators(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // totp_factors had user_id as its primary key: one authenticator app per user. It becomes a
      // table of authenticators (phone, tablet …), each with its own id, name and replay guard
      // (RFC 6238 §5.2: a code is accepted once, per secret). No database changes a primary key in
      // place everywhere (SQLite cannot), so the table is rebuilt under a new name, every row copied
      // with its sealed secret unchanged (the seal binds it to the user, who stays the same), the
      // old table dropped and the new one given the old name.
      await idColumn(db.schema.createTable('totp_factors_next'), dialect)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'varchar(64)', (c) => c.notNull().defaultTo(DEFAULT_NAME))
        .addColumn('secret_sealed', 'varchar(255)', (c) => c.notNull())
        .addColumn('confirmed_at', 'bigint')
        .addColumn('last_used_step', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await sql`insert into ${sql.table('totp_factors_next')}
        (user_id, name, secret_sealed, confirmed_at, last_used_step, last_used_at, created_at)
        select user_id, ${DEFAULT_NAME}, secret_sealed, confirmed_at, last_used_step, null, created_at
        from ${sql.table('totp_factors')}`.execute(db);
      await db.schema.dropTable('totp_factors').execute();
      await db.schema.alterTable('totp_factors_next').renameTo('totp_factors').execute();
      await db.schema.createIndex('totp_factors_user_index').on('totp_factors').column('user_id').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      // Back to one factor per user: the oldest confirmed authenticator (or the pending setup) stays.
      await db.schema
        .createTable('totp_factors_prev')
        .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('secret_sealed', 'varchar(255)', (c) => c.notNull())
        .addColumn('confirmed_at', 'bigint')
        .addColumn('last_used_step', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await sql`insert into ${sql.table('totp_factors_prev')}
        (user_id, secret_sealed, confirmed_at, last_used_step, created_at)
        select t.user_id, t.secret_sealed, t.confirmed_at, t.last_used_step, t.created_at
        from ${sql.table('totp_factors')} t
        where t.id = (select min(o.id) from ${sql.table('totp_factors')} o where o.user_id = t.user_id)`.execute(db);
      await db.schema.dropTable('totp_factors').execute();
      await db.schema.alterTable('totp_factors_prev').renameTo('totp_factors').execute();
    },
  };
}
