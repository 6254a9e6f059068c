import type { ExpressionBuilder, ExpressionWrapper, ReferenceExpression, SqlBool } from 'kysely';
import type { Database } from '../../db/schema.js';

/**
 * `EXISTS (a passkey of the user at userId)`, for another module's query: the second factors' flags
 * (two-factor's `enabledFactors`, the refresh's one query) count a passkey without a second query,
 * while the SQL that names the passkeys table stays with its owner.
 */
export function hasPasskeyExists<DB extends Database, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  userId: ReferenceExpression<DB, TB> | number,
): ExpressionWrapper<DB, TB, SqlBool> {
  const untyped = eb as unknown as ExpressionBuilder<Database, keyof Database>;
  const mine = untyped.selectFrom('passkeys as pk').select('pk.user_id');
  return untyped.exists(
    typeof userId === 'number'
      ? mine.where('pk.user_id', '=', userId)
      : mine.whereRef('pk.user_id', '=', userId as never),
  ) as unknown as ExpressionWrapper<DB, TB, SqlBool>;
}
