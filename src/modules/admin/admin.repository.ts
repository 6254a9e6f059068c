import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import type { Database } from '../../db/schema.js';
import { createAccountsRepository, type UserRow, type UserSearch } from '../accounts/accounts.repository.js';
import { accountLockColumns } from '../accounts/lock-columns.js';
import { liftEveryLock } from '../lockout/lockout.repository.js';

/** What the administration reads and changes of accounts: the statements are accounts' and lockout's. */
export interface AdminRepository {
  listUsers(query: UserSearch): Promise<{ rows: UserRow[]; total: number }>;
  /** An administrator's lock, which only `unlock` lifts. */
  lock(id: number, nowMs: number): Promise<void>;
  /**
   * Clears every lock, an administrator's and every brute-force lockout (untrusted clients, each device cookie), and
   * the failure counts.
   */
  unlock(id: number, nowMs: number): Promise<void>;
}

export function createAdminRepository(db: Kysely<Database>, dialect: Dialect): AdminRepository {
  const accounts = createAccountsRepository(db, dialect);
  const lockColumns = accountLockColumns(db);
  return {
    listUsers: (query) => accounts.searchUsers(query),
    lock: (id, nowMs) => lockColumns.lockByAdministrator(id, nowMs),
    unlock: (id, nowMs) => liftEveryLock(db, id, { adminLockToo: true, nowMs }),
  };
}
