import type { Kysely, Migration } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export function oidc(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // What oidc-provider stores through its adapter (grants, sessions, codes, tokens, interactions),
      // one row per model instance: the payload is the provider's own JSON, opaque to Twofold; the
      // columns beside it are the look-ups its adapter interface makes (by grant, session uid, user code)
      // and the expiry that removes the row.
      await db.schema
        .createTable('oidc_payloads')
        .addColumn('model', 'varchar(40)', (c) => c.notNull())
        .addColumn('id', 'varchar(255)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'varchar(255)')
        .addColumn('user_code', 'varchar(255)')
        .addColumn('uid', 'varchar(255)')
        .addColumn('expires_at', 'bigint')
        .addColumn('consumed_at', 'bigint')
        .addPrimaryKeyConstraint('oidc_payloads_pkey', ['model', 'id'])
        .execute();
      await db.schema.createIndex('oidc_payloads_grant_index').on('oidc_payloads').column('grant_id').execute();
      await db.schema.createIndex('oidc_payloads_uid_index').on('oidc_payloads').column('uid').execute();
      await db.schema.createIndex('oidc_payloads_user_code_index').on('oidc_payloads').column('user_code').execute();
      await db.schema.createIndex('oidc_payloads_expiry_index').on('oidc_payloads').column('expires_at').execute();
      // The relying parties allowed to use the provider. The secret is kept as its SHA-256 only: it is
      // 256 random bits, so a fast hash suffices (OWASP Password Storage Cheat Sheet: slow hashing is for
      // guessable secrets); null for a public client (RFC 6749 §2.1), which has none.
      await db.schema
        .createTable('oidc_clients')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('secret_hash', 'char(64)')
        .addColumn('redirect_uris', 'text', (c) => c.notNull())
        .addColumn('grant_types', 'varchar(255)', (c) => c.notNull())
        .addColumn('scope', 'varchar(1000)', (c) => c.notNull())
        .addColumn('skip_consent', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('oidc_clients').execute();
      await db.schema.dropTable('oidc_payloads').execute();
    },
  };
}
