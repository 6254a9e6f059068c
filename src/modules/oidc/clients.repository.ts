import type { Kysely, Selectable } from 'kysely';
import type { Database, OidcClientsTable } from '../../db/schema.js';

export type ClientRow = Selectable<OidcClientsTable>;

/** The relying parties (`oidc_clients`); the table belongs to the oidc module. */
export interface ClientsRepository {
  insert(row: ClientRow): Promise<void>;
  find(id: string): Promise<ClientRow | undefined>;
  list(): Promise<ClientRow[]>;
  /** Whether a row was deleted. */
  delete(id: string): Promise<boolean>;
  /** Whether the client exists (and had a secret, so it was replaced). */
  replaceSecret(id: string, secretHash: string, nowMs: number): Promise<boolean>;
}

export function createClientsRepository(db: Kysely<Database>): ClientsRepository {
  return {
    async insert(row) {
      await db.insertInto('oidc_clients').values(row).execute();
    },
    find: (id) => db.selectFrom('oidc_clients').selectAll().where('id', '=', id).executeTakeFirst(),
    list: () => db.selectFrom('oidc_clients').selectAll().orderBy('created_at').orderBy('id').execute(),
    async delete(id) {
      const result = await db.deleteFrom('oidc_clients').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async replaceSecret(id, secretHash, nowMs) {
      const result = await db
        .updateTable('oidc_clients')
        .set({ secret_hash: secretHash, updated_at: nowMs })
        .where('id', '=', id)
        .where('secret_hash', 'is not', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
