import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import type { Database } from '../../db/schema.js';
import { createAccountsRepository, type UserRow, type UserSearch } from '../accounts/accounts.repository.js';
import { accountLockColumns } from '../accounts/lock-columns.js';
import { inUserLockedTransaction } from '../accounts/user-lock.js';
import { liftEveryLock } from '../lockout/lockout.repository.js';
import { removeAllPasskeys } from '../passkeys/passkeys.repository.js';
import { removeCodeFactors } from '../two-factor/two-factor.repository.js';

/**
 * What the administration reads and changes of accounts: the statements are their owners'
 * (accounts', lockout's, two-factor's and passkeys').
 */
export interface AdminRepository {
  listUsers(query: UserSearch): Promise<{ rows: UserRow[]; total: number }>;
  /** An administrator's lock, which only `unlock` lifts. */
  lock(id: number, nowMs: number): Promise<void>;
  /**
   * Clears every lock, an administrator's and every brute-force lockout (untrusted clients, each device cookie), and
   * the failure counts.
   */
  unlock(id: number, nowMs: number): Promise<void>;
  /**
   * A lost device: every second factor of the user in one transaction, under the user's row lock
   * (the code factors and the passkeys, with the sign-ins and ceremonies waiting for one), so no
   * sign-in or registration running beside it sees some of them gone and others left. How many
   * passkeys went.
   */
  resetSecondFactors(id: number): Promise<{ passkeysRemoved: number }>;
}

export function createAdminRepository(db: Kysely<Database>, dialect: Dialect): AdminRepository {
  const accounts = createAccountsRepository(db, dialect);
  const lockColumns = accountLockColumns(db);
  return {
    listUsers: (query) => accounts.searchUsers(query),
    lock: (id, nowMs) => lockColumns.lockByAdministrator(id, nowMs),
    unlock: (id, nowMs) => liftEveryLock(db, id, { adminLockToo: true, nowMs }),
    // The statements are their owners', two-factor's and passkeys', on this one transaction.
    resetSecondFactors: (id) =>
      inUserLockedTransaction(db, dialect, id, async (trx) => {
        await removeCodeFactors(trx, id);
        return { passkeysRemoved: await removeAllPasskeys(trx, id) };
      }),
  };
}
