import { sql, type Kysely, type Migration } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.
export function recentAuth(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // When the person last proved a password or second factor in this session (epoch ms): the
      // access token's `auth_time` (OpenID Connect Core 1.0 §2). Sessions opened before this
      // migration get the time they were opened, which is when their sign-in happened. The default
      // 0 ("long ago") is only there so existing rows can take the column; every insert sets it.
      await db.schema
        .alterTable('sessions')
        .addColumn('authenticated_at', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`update sessions set authenticated_at = created_at`.execute(db);
      // A keyed hash of the IP address and user agent of the request that spent a refresh token:
      // a replay within the grace window is a harmless duplicate only from that same client.
      await db.schema.alterTable('refresh_tokens').addColumn('used_by', 'char(64)').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('refresh_tokens').dropColumn('used_by').execute();
      await db.schema.alterTable('sessions').dropColumn('authenticated_at').execute();
    },
  };
}
