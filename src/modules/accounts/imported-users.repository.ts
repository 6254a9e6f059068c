import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, UsersTable } from '../../db/schema.js';

/** The database or a transaction: each batch of `twofold import` runs on whichever the import chose. */
export type Executor = Kysely<Database>;

const EXISTING_USER_COLUMNS = [
  'id',
  'username_normalized',
  'email',
  'email_normalized',
  'email_verified',
  'password_hash',
  'role',
  'imported_at',
] as const;

/** What the import compares an imported account with. */
export type ExistingUser = Pick<Selectable<UsersTable>, (typeof EXISTING_USER_COLUMNS)[number]>;
/** What an import changes on an account it imported before. */
export type UserChanges = Pick<
  Selectable<UsersTable>,
  'email' | 'email_normalized' | 'email_verified' | 'password_hash' | 'role' | 'updated_at'
> & { imported_at: number };

/**
 * The users-table statements of `twofold import` (the import module plans, this module writes): bulk
 * reads and writes, a batch of a few hundred rows per statement, on the executor the import chose.
 */
export const importedUsers = {
  async findByUsernames(db: Executor, normalized: string[]): Promise<ExistingUser[]> {
    if (normalized.length === 0) return [];
    return db
      .selectFrom('users')
      .select(EXISTING_USER_COLUMNS)
      .where('username_normalized', 'in', normalized)
      .execute();
  },

  async findIdsByEmails(
    db: Executor,
    normalized: string[],
  ): Promise<Array<{ id: number; email_normalized: string | null }>> {
    if (normalized.length === 0) return [];
    return db
      .selectFrom('users')
      .select(['id', 'email_normalized'])
      .where('email_normalized', 'in', normalized)
      .execute();
  },

  async insertImportedUsers(db: Executor, users: Array<Insertable<UsersTable>>): Promise<void> {
    if (users.length > 0) await db.insertInto('users').values(users).execute();
  },

  async updateImportedUser(db: Executor, id: number, changes: UserChanges): Promise<void> {
    await db.updateTable('users').set(changes).where('id', '=', id).execute();
  },
};
