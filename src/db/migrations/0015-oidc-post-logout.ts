import type { Kysely, Migration } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export function oidcPostLogout(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Where a client may send the browser after an RP-initiated logout (OpenID Connect RP-Initiated
      // Logout 1.0 §3: only to a registered URI), a JSON array like redirect_uris; the clients made
      // before have none, so their logout ends on Twofold's own "You are signed out" page.
      await db.schema
        .alterTable('oidc_clients')
        .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('oidc_clients').dropColumn('post_logout_redirect_uris').execute();
    },
  };
}
