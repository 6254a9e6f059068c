import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import type { Database } from '../../db/schema.js';

/** What the deleted account was called, for erasing those names from what outlives it (the audit trail). */
export interface RemovedAccount {
  id: number;
  username: string;
  email: string | null;
}

export type AccountRemoval =
  | { outcome: 'deleted'; account: RemovedAccount }
  | { outcome: 'not_found' }
  /** The account is the only administrator left: deleting it would leave nobody to administer the service. */
  | { outcome: 'last_admin' }
  /** The administrator who asked is no longer one (demoted or deleted meanwhile). */
  | { outcome: 'actor_not_admin' };

/**
 * Deletes a user's row, on the caller's transaction: the database's foreign keys take everything
 * that belongs to the account with it (sessions and their refresh tokens, second factors, codes,
 * reset links, lockout rows) and leave products with `created_by` null.
 *
 * The last administrator is never deleted, even by two requests at once (two admins deleting
 * themselves or each other). Every administrator's row, the target's and the acting
 * administrator's are locked first, in id order (`SELECT … ORDER BY id FOR UPDATE`), so concurrent
 * deletions run one after the other and each counts the administrators the one before left:
 * PostgreSQL re-reads a locked row once its locker commits (a deleted one drops out), and InnoDB's
 * locking reads see the latest committed rows. One order for everyone means no deadlock between
 * deletions. SQLite has a single writer: its transactions already run one at a time.
 */
export async function removeAccount(
  trx: Kysely<Database>,
  dialect: Dialect,
  userId: number,
  actingAdminId?: number,
): Promise<AccountRemoval> {
  const ids = actingAdminId === undefined ? [userId] : [userId, actingAdminId];
  let query = trx
    .selectFrom('users')
    .select(['id', 'role', 'username', 'email'])
    .where((eb) => eb.or([eb('role', '=', 'admin'), eb('id', 'in', ids)]))
    .orderBy('id');
  if (dialect !== 'sqlite') query = query.forUpdate();
  const rows = await query.execute();
  const target = rows.find((row) => row.id === userId);
  if (!target) return { outcome: 'not_found' };
  if (actingAdminId !== undefined && !rows.some((row) => row.id === actingAdminId && row.role === 'admin'))
    return { outcome: 'actor_not_admin' };
  if (target.role === 'admin' && !rows.some((row) => row.role === 'admin' && row.id !== userId))
    return { outcome: 'last_admin' };
  await trx.deleteFrom('users').where('id', '=', userId).execute();
  return { outcome: 'deleted', account: { id: target.id, username: target.username, email: target.email } };
}
