import type { Kysely } from 'kysely';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Dialect } from '../../db/create-database.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';

/** How many writes pass between two deletions of expired rows (one indexed DELETE, shared by every model). */
const CLEANUP_EVERY = 200;

/**
 * oidc-provider's storage of its models (the adapter interface of its example/my_adapter.js) in the
 * `oidc_payloads` table, on SQLite, PostgreSQL and MySQL/MariaDB. Every model shares the table; the
 * model name is part of the key.
 */
export function createOidcAdapterFactory(
  db: Kysely<Database>,
  dialect: Dialect,
  clock: Clock,
): (model: string) => Adapter {
  let writes = 0;

  async function removeExpired(nowMs: number): Promise<void> {
    await db.deleteFrom('oidc_payloads').where('expires_at', '<=', nowMs).execute();
  }

  async function findWhere(
    model: string,
    column: 'id' | 'uid' | 'user_code',
    value: string,
  ): Promise<AdapterPayload | undefined> {
    const row = await db
      .selectFrom('oidc_payloads')
      .select(['payload', 'expires_at', 'consumed_at'])
      .where('model', '=', model)
      .where(column, '=', value)
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.expires_at !== null && Number(row.expires_at) <= clock.now().getTime()) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    // The interface asks for a truthy `consumed` once consume() has run.
    return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(Number(row.consumed_at) / 1000) };
  }

  return (model) => ({
    async upsert(id, payload, expiresIn) {
      const nowMs = clock.now().getTime();
      const values = {
        payload: JSON.stringify(payload),
        grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
        user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        account_id: typeof payload.accountId === 'string' ? payload.accountId : null,
        expires_at: typeof expiresIn === 'number' ? nowMs + expiresIn * 1000 : null,
        consumed_at: null,
      };
      const insert = db.insertInto('oidc_payloads').values({ model, id, ...values });
      if (dialect === 'mysql') await insert.onDuplicateKeyUpdate(values).execute();
      else await insert.onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(values)).execute();
      writes += 1;
      if (writes % CLEANUP_EVERY === 0) await removeExpired(nowMs);
    },

    find: (id) => findWhere(model, 'id', id),
    findByUid: (uid) => findWhere(model, 'uid', uid),
    findByUserCode: (userCode) => findWhere(model, 'user_code', userCode),

    async destroy(id) {
      await db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', id).execute();
    },

    async revokeByGrantId(grantId) {
      await db.deleteFrom('oidc_payloads').where('model', '=', model).where('grant_id', '=', grantId).execute();
    },

    /**
     * Spends a single-use artifact (an authorization code, a rotated refresh token) in one guarded
     * UPDATE: of two parallel exchanges of the same code, exactly one wins. The loser ends the whole
     * grant, as a replayed code must (RFC 6749 §4.1.2; RFC 9700 §4.14.2 for refresh tokens).
     */
    async consume(id) {
      const result = await db
        .updateTable('oidc_payloads')
        .set({ consumed_at: clock.now().getTime() })
        .where('model', '=', model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) return;
      const row = await db
        .selectFrom('oidc_payloads')
        .select('grant_id')
        .where('model', '=', model)
        .where('id', '=', id)
        .executeTakeFirst();
      if (row?.grant_id) {
        await db.deleteFrom('oidc_payloads').where('grant_id', '=', row.grant_id).execute();
        await db.deleteFrom('oidc_payloads').where('model', '=', 'Grant').where('id', '=', row.grant_id).execute();
      }
      throw new errors.InvalidGrant(`${model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
    },
  });
}
