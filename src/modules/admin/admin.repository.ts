import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { UserRow } from '../accounts/accounts.repository.js';
import { liftEveryLock } from '../lockout/lockout.repository.js';
import { canonicalEmail } from '../accounts/email-address.js';
import { likeContains } from '../../db/like.js';

export interface UserListQuery {
  /** Username or email contains this (case-insensitive). */
  q?: string | undefined;
  limit: number;
  offset: number;
}

export interface AdminRepository {
  listUsers(query: UserListQuery): Promise<{ rows: UserRow[]; total: number }>;
  lock(id: number, untilMs: number, nowMs: number): Promise<void>;
  /**
   * Clears every lock, an administrator's and every brute-force lockout (untrusted clients, each device cookie), and
   * the failure counts.
   */
  unlock(id: number, nowMs: number): Promise<void>;
}

export function createAdminRepository(db: Kysely<Database>): AdminRepository {
  return {
    async listUsers({ q, limit, offset }) {
      let base = db.selectFrom('users');
      if (q) {
        // The *_normalized columns are already lower-case, so the match is case-insensitive everywhere.
        const pattern = likeContains(q);
        // Addresses are compared in their canonical form (accounts/email-address.ts), so is the query.
        const emailPattern = likeContains(canonicalEmail(q));
        base = base.where(
          sql<boolean>`(username_normalized like ${pattern} escape '!' or email_normalized like ${emailPattern} escape '!')`,
        );
      }
      const [rows, count] = await Promise.all([
        base.selectAll().orderBy('id').limit(limit).offset(offset).execute(),
        base.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
      ]);
      return { rows, total: Number(count.total) };
    },
    async lock(id, untilMs, nowMs) {
      await db.updateTable('users').set({ locked_until: untilMs, updated_at: nowMs }).where('id', '=', id).execute();
    },
    async unlock(id, nowMs) {
      await liftEveryLock(db, id, { adminLockToo: true, nowMs });
    },
  };
}
