import type { Kysely, Selectable } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import { uniqueViolation } from '../../db/errors.js';
import { insertWithId } from '../../db/insert.js';
import type { Database, PasskeysTable, WebauthnChallengesTable } from '../../db/schema.js';
import { inUserLockedTransaction } from '../accounts/user-lock.js';

export type PasskeyRow = Selectable<PasskeysTable>;
export type ChallengeRow = Selectable<WebauthnChallengesTable>;
export type NewPasskey = Omit<PasskeyRow, 'id' | 'last_used_at'>;

/** Tables `passkeys` and `webauthn_challenges`: a user's WebAuthn credentials and the ceremonies' challenges. */
export interface PasskeysRepository {
  listByUser(userId: number): Promise<PasskeyRow[]>;
  findByCredentialKey(credentialKey: string): Promise<PasskeyRow | undefined>;
  /** Inserts unless the user has `max` passkeys already (counted under the user's row lock) or it exists. */
  insert(row: NewPasskey, max: number): Promise<PasskeyRow | 'full' | 'duplicate'>;
  rename(userId: number, id: number, name: string): Promise<PasskeyRow | undefined>;
  remove(userId: number, id: number): Promise<boolean>;
  /**
   * Guarded: records a use only if the stored counter is still `expectedCounter`, so of two assertions
   * racing on one credential exactly one moves it forward (the other sees a changed counter).
   */
  recordUse(
    id: number,
    expectedCounter: number,
    newCounter: number,
    backedUp: boolean,
    nowMs: number,
  ): Promise<boolean>;
  hasAny(userId: number): Promise<boolean>;
  /** How many passkeys each of the users has (one grouped query; users without one are absent). */
  countByUsers(userIds: readonly number[]): Promise<Map<number, number>>;
  saveChallenge(row: ChallengeRow): Promise<void>;
  findChallenge(keyHash: string, purpose: readonly string[], nowMs: number): Promise<ChallengeRow | undefined>;
  /** Guarded DELETE: true for exactly one caller per challenge, on every database. */
  spendChallenge(keyHash: string, nowMs: number): Promise<boolean>;
}

/**
 * Removes every passkey of the user, and the user's ceremonies in flight (a challenge issued before
 * the removal proves nothing after it), on the caller's executor: the administration's reset runs it
 * in the transaction that removes the other second factors. How many passkeys went.
 */
export async function removeAllPasskeys(trx: Kysely<Database>, userId: number): Promise<number> {
  await trx.deleteFrom('webauthn_challenges').where('user_id', '=', userId).execute();
  const result = await trx.deleteFrom('passkeys').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

const number = (value: number | string | bigint): number => Number(value);

function normalise(row: PasskeyRow): PasskeyRow {
  return {
    ...row,
    id: number(row.id),
    user_id: number(row.user_id),
    counter: number(row.counter),
    backed_up: number(row.backed_up),
    created_at: number(row.created_at),
    last_used_at: row.last_used_at === null ? null : number(row.last_used_at),
  };
}

export function createPasskeysRepository(db: Kysely<Database>, dialect: Dialect): PasskeysRepository {
  const byId = async (userId: number, id: number): Promise<PasskeyRow | undefined> => {
    const row = await db
      .selectFrom('passkeys')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row && normalise(row);
  };

  return {
    async listByUser(userId) {
      const rows = await db
        .selectFrom('passkeys')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('id', 'asc')
        .execute();
      return rows.map(normalise);
    },

    async findByCredentialKey(credentialKey) {
      const row = await db
        .selectFrom('passkeys')
        .selectAll()
        .where('credential_key', '=', credentialKey)
        .executeTakeFirst();
      return row && normalise(row);
    },

    async insert(values, max) {
      try {
        return await inUserLockedTransaction(db, dialect, values.user_id, async (trx) => {
          const { n } = await trx
            .selectFrom('passkeys')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('user_id', '=', values.user_id)
            .executeTakeFirstOrThrow();
          if (Number(n) >= max) return 'full' as const;
          const id = await insertWithId(trx, dialect, 'passkeys', values);
          return { ...values, id, last_used_at: null };
        });
      } catch (error) {
        if (uniqueViolation(error) !== null) return 'duplicate';
        throw error;
      }
    },

    async rename(userId, id, name) {
      // Read back rather than trusting the row count: MySQL counts only rows whose value changed.
      await db.updateTable('passkeys').set({ name }).where('id', '=', id).where('user_id', '=', userId).execute();
      return byId(userId, id);
    },

    async remove(userId, id) {
      const result = await db
        .deleteFrom('passkeys')
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    async recordUse(id, expectedCounter, newCounter, backedUp, nowMs) {
      const result = await db
        .updateTable('passkeys')
        .set({ counter: newCounter, backed_up: backedUp ? 1 : 0, last_used_at: nowMs })
        .where('id', '=', id)
        .where('counter', '=', expectedCounter)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async hasAny(userId) {
      const row = await db.selectFrom('passkeys').select('id').where('user_id', '=', userId).executeTakeFirst();
      return row !== undefined;
    },

    async countByUsers(userIds) {
      if (userIds.length === 0) return new Map();
      const rows = await db
        .selectFrom('passkeys')
        .select((eb) => ['user_id', eb.fn.countAll<number>().as('n')])
        .where('user_id', 'in', [...userIds])
        .groupBy('user_id')
        .execute();
      return new Map(rows.map((r) => [number(r.user_id), number(r.n)]));
    },

    async saveChallenge(row) {
      // Expired challenges of anyone go first, so the table holds only live ceremonies.
      await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', row.created_at).execute();
      await db.insertInto('webauthn_challenges').values(row).execute();
    },

    async findChallenge(keyHash, purpose, nowMs) {
      const row = await db
        .selectFrom('webauthn_challenges')
        .selectAll()
        .where('key_hash', '=', keyHash)
        .where('purpose', 'in', [...purpose])
        .where('expires_at', '>', nowMs)
        .executeTakeFirst();
      return (
        row && {
          ...row,
          user_id: row.user_id === null ? null : number(row.user_id),
          created_at: number(row.created_at),
          expires_at: number(row.expires_at),
        }
      );
    },

    async spendChallenge(keyHash, nowMs) {
      const result = await db
        .deleteFrom('webauthn_challenges')
        .where('key_hash', '=', keyHash)
        .where('expires_at', '>', nowMs)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
