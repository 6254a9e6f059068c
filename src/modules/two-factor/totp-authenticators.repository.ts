import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import type { Database, TotpFactorsTable } from '../../db/schema.js';
import { inUserLockedTransaction } from '../accounts/user-lock.js';

export type TotpRow = Selectable<TotpFactorsTable>;

/** At most this many confirmed authenticator apps per user. */
export const MAX_TOTP_AUTHENTICATORS = 10;

/** The tables that hold one of a user's second factors, codes or pending sign-ins (all of 2FA). */
export const FACTOR_TABLES = ['totp_factors', 'email_factors', 'email_codes', 'backup_codes', 'mfa_flows'] as const;

export type ConfirmOutcome = { outcome: 'confirmed'; first: boolean } | { outcome: 'gone' | 'full' };
export type RemoveOutcome = 'not_found' | 'removed' | 'removed_last';

/** A user's TOTP authenticators (table `totp_factors`, one row per authenticator app). */
export interface TotpAuthenticatorsRepository {
  /** The confirmed authenticators, oldest first. */
  confirmedTotps(userId: number): Promise<TotpRow[]>;
  /** The pending (unconfirmed) setup, if any: there is at most one. */
  pendingTotp(userId: number): Promise<TotpRow | undefined>;
  /**
   * Replaces the pending setup with a new one (at most one pending per user); 'full' and nothing
   * written when the user already has the maximum of confirmed authenticators.
   */
  savePendingTotp(userId: number, name: string, secretSealed: string, nowMs: number): Promise<'saved' | 'full'>;
  /** Confirms the pending setup `id` at `step` (its code is spent), renamed when `name` is given. */
  confirmTotp(
    userId: number,
    id: number,
    step: number,
    name: string | undefined,
    nowMs: number,
  ): Promise<ConfirmOutcome>;
  /** Guarded: true only if `step` is newer than every step this authenticator accepted before (RFC 6238 §5.2). */
  useTotpStep(id: number, step: number, nowMs: number): Promise<boolean>;
  /** The user's confirmed authenticator `id`, renamed; undefined when the user has none of that id. */
  renameTotp(userId: number, id: number, name: string): Promise<TotpRow | undefined>;
  /**
   * Removes the user's confirmed authenticator `id`. When it was the user's last second factor (no
   * other authenticator, no email codes), every backup code, code and pending sign-in goes with it
   * in the same transaction: 2FA is off, exactly as after `removeAll`.
   */
  removeTotp(userId: number, id: number): Promise<RemoveOutcome>;
}

function changed(result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): boolean {
  return Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0) === 1;
}

async function countConfirmed(trx: Transaction<Database>, userId: number): Promise<number> {
  const row = await trx
    .selectFrom('totp_factors')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('confirmed_at', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function createTotpAuthenticatorsRepository(
  db: Kysely<Database>,
  dialect: Dialect,
): TotpAuthenticatorsRepository {
  /** The user's confirmed authenticators (or the one of them with `id`), oldest first. */
  const confirmedOf = (userId: number, id?: number): Promise<TotpRow[]> => {
    let query = db
      .selectFrom('totp_factors')
      .selectAll()
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is not', null);
    if (id !== undefined) query = query.where('id', '=', id);
    return query.orderBy('id').execute();
  };

  return {
    confirmedTotps: (userId) => confirmedOf(userId),
    pendingTotp: (userId) =>
      db
        .selectFrom('totp_factors')
        .selectAll()
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is', null)
        .orderBy('id', 'desc')
        .executeTakeFirst(),

    savePendingTotp(userId, name, secretSealed, nowMs) {
      // Under the user's row lock, two setups at once run one after the other: the second deletes the
      // first's pending row, so one pending setup remains (the last, as a sequential pair would leave).
      return inUserLockedTransaction(db, dialect, userId, async (trx) => {
        if ((await countConfirmed(trx, userId)) >= MAX_TOTP_AUTHENTICATORS) return 'full';
        await trx.deleteFrom('totp_factors').where('user_id', '=', userId).where('confirmed_at', 'is', null).execute();
        await trx
          .insertInto('totp_factors')
          .values({
            user_id: userId,
            name,
            secret_sealed: secretSealed,
            created_at: nowMs,
            confirmed_at: null,
            last_used_step: null,
          })
          .execute();
        return 'saved';
      });
    },

    confirmTotp(userId, id, step, name, nowMs) {
      // Counted and confirmed under the lock: parallel confirmations never pass the maximum, and
      // `first` (TOTP was off until now) is true for exactly one of them.
      return inUserLockedTransaction(db, dialect, userId, async (trx): Promise<ConfirmOutcome> => {
        const count = await countConfirmed(trx, userId);
        if (count >= MAX_TOTP_AUTHENTICATORS) return { outcome: 'full' };
        const result = await trx
          .updateTable('totp_factors')
          .set({ confirmed_at: nowMs, last_used_step: step, ...(name === undefined ? {} : { name }) })
          .where('id', '=', id)
          .where('user_id', '=', userId)
          .where('confirmed_at', 'is', null)
          .executeTakeFirst();
        return changed(result) ? { outcome: 'confirmed', first: count === 0 } : { outcome: 'gone' };
      });
    },

    async useTotpStep(id, step, nowMs) {
      return changed(
        await db
          .updateTable('totp_factors')
          .set({ last_used_step: step, last_used_at: nowMs })
          .where('id', '=', id)
          .where('confirmed_at', 'is not', null)
          .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
          .executeTakeFirst(),
      );
    },

    async renameTotp(userId, id, name) {
      // Read back rather than trust the row count: MySQL counts an unchanged row (same name) as not updated.
      await db
        .updateTable('totp_factors')
        .set({ name })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is not', null)
        .execute();
      return (await confirmedOf(userId, id))[0];
    },

    removeTotp(userId, id) {
      // Under the user's lock, two removals at once see each other's result: removing the last two
      // authenticators in parallel still turns 2FA off, and the backup codes go with it.
      return inUserLockedTransaction(db, dialect, userId, async (trx): Promise<RemoveOutcome> => {
        const removed = await trx
          .deleteFrom('totp_factors')
          .where('id', '=', id)
          .where('user_id', '=', userId)
          .where('confirmed_at', 'is not', null)
          .executeTakeFirst();
        if (!changed(removed)) return 'not_found';
        const left = await trx
          .selectNoFrom((eb) => [
            eb
              .exists(
                eb
                  .selectFrom('totp_factors')
                  .select('user_id')
                  .where('user_id', '=', userId)
                  .where('confirmed_at', 'is not', null),
              )
              .as('totp'),
            eb.exists(eb.selectFrom('email_factors').select('user_id').where('user_id', '=', userId)).as('email'),
          ])
          .executeTakeFirstOrThrow();
        // 0/1 on SQLite and MySQL, a boolean on PostgreSQL.
        if (Number(left.totp) || Number(left.email)) return 'removed';
        for (const table of FACTOR_TABLES) await trx.deleteFrom(table).where('user_id', '=', userId).execute();
        return 'removed_last';
      });
    },
  };
}
