import type { ReferenceExpression, SelectQueryBuilder } from 'kysely';
import type { Database } from '../../db/schema.js';
import { hasPasskeyExists } from '../passkeys/passkey-flag.js';

/** Whether the user has each second factor: a boolean on PostgreSQL, 0/1 on SQLite and MySQL. */
export interface FactorFlags {
  /** An enabled (confirmed) TOTP authenticator. */
  totp: number | boolean;
  /** Email codes turned on. */
  email_factor: number | boolean;
  /** A passkey (WebAuthn credential): the passkeys module's EXISTS. */
  passkey: number | boolean;
}

/**
 * Selects, in another module's query, whether the user whose id that query holds at `userId` has
 * each second factor (`totp`, `email_factor`, `passkey`: three EXISTS subqueries): the caller's read stays one
 * query (a refresh reads its token, session, user and factors at once) while the SQL that names the
 * factor tables stays here, with their owner. The subqueries' aliases are this function's own.
 */
export function selectFactorFlags<DB extends Database, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  userId: ReferenceExpression<DB, TB>,
): SelectQueryBuilder<DB, TB, O & FactorFlags> {
  const untyped = query as unknown as SelectQueryBuilder<Database, keyof Database, object>;
  const owner = userId as never;
  return untyped.select((eb) => [
    eb
      .exists(
        eb
          .selectFrom('totp_factors as f')
          .select('f.user_id')
          .whereRef('f.user_id', '=', owner)
          .where('f.confirmed_at', 'is not', null),
      )
      .as('totp'),
    eb
      .exists(eb.selectFrom('email_factors as e').select('e.user_id').whereRef('e.user_id', '=', owner))
      .as('email_factor'),
    hasPasskeyExists(eb, owner).as('passkey'),
  ]) as unknown as SelectQueryBuilder<DB, TB, O & FactorFlags>;
}

/** The flags as booleans (methodsOfFactors' input): PostgreSQL answers booleans, SQLite and MySQL 0/1. */
export function factorsOn(flags: FactorFlags): { totp: boolean; email: boolean; passkey: boolean } {
  return {
    totp: Boolean(Number(flags.totp)),
    email: Boolean(Number(flags.email_factor)),
    passkey: Boolean(Number(flags.passkey)),
  };
}
