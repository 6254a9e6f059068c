import type { Kysely, Migration } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export function oidcAccounts(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Whose sign-in a provider row holds (its payload's accountId): signing out of Twofold ends the
      // provider's sessions of that account, found by this column instead of by reading every payload.
      await db.schema.alterTable('oidc_payloads').addColumn('account_id', 'varchar(255)').execute();
      await db.schema.createIndex('oidc_payloads_account_index').on('oidc_payloads').column('account_id').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('oidc_payloads_account_index').on('oidc_payloads').execute();
      await db.schema.alterTable('oidc_payloads').dropColumn('account_id').execute();
    },
  };
}
