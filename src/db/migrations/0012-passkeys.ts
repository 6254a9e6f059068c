import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../create-database.js';
import { idColumn } from './columns.js';

// Frozen: never edit a migration that has shipped; add a new one.
export function passkeys(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // A user's WebAuthn credentials (W3C WebAuthn Level 3, §7.1 step 27: the credential ID, its
      // public key, its signature counter, transports and backup state are what the relying party keeps).
      // A credential ID may be up to 1023 bytes (§5.4.2): longer than MySQL can index under a unique key,
      // so uniqueness is kept on its SHA-256 (credential_key), and the ID itself is stored in full.
      // The public key is COSE bytes as base64url text: one representation on all three databases.
      await idColumn(db.schema.createTable('passkeys'), dialect)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('credential_key', 'char(64)', (c) => c.notNull().unique())
        .addColumn('credential_id', 'varchar(1400)', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('counter', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('transports', 'varchar(255)', (c) => c.notNull().defaultTo('[]'))
        .addColumn('backed_up', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('device_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('aaguid', 'varchar(36)', (c) => c.notNull())
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema.createIndex('passkeys_user_index').on('passkeys').column('user_id').execute();
      // One WebAuthn ceremony's challenge, spent once (§13.4.3: a challenge is never reused). The key is
      // the SHA-256 of the login flow token or, for a registration, of the challenge itself; only the
      // challenge, which the client sees anyway, is kept in clear.
      await db.schema
        .createTable('webauthn_challenges')
        .addColumn('key_hash', 'char(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('purpose', 'varchar(16)', (c) => c.notNull())
        .addColumn('challenge', 'varchar(128)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('webauthn_challenges_expiry_index')
        .on('webauthn_challenges')
        .column('expires_at')
        .execute();
      // The first factor a login challenge follows (`pwd`, or `hwk` for a passkey without user
      // verification), so the second step's RFC 8176 `amr` names what was really proven.
      await db.schema
        .alterTable('mfa_flows')
        .addColumn('first_factor', 'varchar(8)', (c) => c.notNull().defaultTo('pwd'))
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('mfa_flows').dropColumn('first_factor').execute();
      await db.schema.dropTable('webauthn_challenges').execute();
      await db.schema.dropTable('passkeys').execute();
    },
  };
}
