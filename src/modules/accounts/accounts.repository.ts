import {
  sql,
  type Kysely,
  type QueryCreator,
  type ReferenceExpression,
  type Selectable,
  type SelectQueryBuilder,
  type UpdateQueryBuilder,
  type UpdateResult,
} from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import { insertWithId } from '../../db/insert.js';
import { likeContains } from '../../db/like.js';
import type { Database, UsersTable } from '../../db/schema.js';
import { compiledOnce, type CompiledOnce } from '../../db/compiled.js';
import { transactionWithRetry } from '../../db/transaction.js';
import { canonicalEmail, emailLookupKey } from './email-address.js';
import { clearedFailures } from './lock-columns.js';

export type UserRow = Selectable<UsersTable>;

export interface NewUser {
  username: string;
  email: string | null;
  passwordHash: string;
  role: string;
  emailVerified: boolean;
  nowMs: number;
}

/** What it takes to write to an account's owner: the recovery and email-proof flows. */
export interface AccountContact {
  id: number;
  username: string;
  email: string | null;
  emailVerified: boolean;
}

export interface UserSearch {
  /** Username or email contains this (case-insensitive). */
  q?: string | undefined;
  limit: number;
  offset: number;
}

export interface AccountsRepository {
  insert(user: NewUser): Promise<number>;
  findById(id: number): Promise<UserRow | undefined>;
  /** By username, or by email when the identifier contains `@`; both case-insensitive. */
  findByLogin(identifier: string): Promise<UserRow | undefined>;
  /** Compare-and-set: replaces the hash only if it is still `expected` (a concurrent change wins). */
  replacePasswordHash(id: number, expected: string, passwordHash: string, nowMs: number): Promise<boolean>;
  updateRole(id: number, role: string, nowMs: number): Promise<void>;
  /** By address, compared by its lookup key (case-insensitive, like sign-in by email). */
  findContactByEmail(email: string): Promise<AccountContact | undefined>;
  findContactById(id: number): Promise<AccountContact | undefined>;
  /**
   * Marks the account's address verified; with `whileEmailKey`, only while the account still has
   * that address (its lookup key), so a proof of an address the account has just left counts for nothing.
   */
  markEmailVerified(userId: number, nowMs: number, whileEmailKey?: string): Promise<void>;
  /** A page of accounts by id, with the number of all that match. */
  searchUsers(search: UserSearch): Promise<{ rows: UserRow[]; total: number }>;
}

const CONTACT_COLUMNS = ['id', 'username', 'email', 'email_verified'] as const;

function toContact(row: Pick<UserRow, (typeof CONTACT_COLUMNS)[number]>): AccountContact {
  return { id: row.id, username: row.username, email: row.email, emailVerified: Boolean(row.email_verified) };
}

/** The columns of a user's row that the `User` answer (accounts.service's presentUser) shows besides the id. */
export const PRESENTED_USER_COLUMNS = ['username', 'email', 'role', 'email_verified', 'created_at'] as const;

/**
 * Joins, to another module's query, the user whose id that query holds at `userId`, and selects
 * `columns` of the user's row: the caller's read stays one query (a refresh reads its token, session
 * and user at once) while the SQL that names the users table stays here. The join's alias is this
 * function's own; the caller refers to the user by its own id column.
 */
export function joinUserColumns<DB extends Database, TB extends keyof DB, O, C extends keyof UserRow & string>(
  query: SelectQueryBuilder<DB, TB, O>,
  userId: ReferenceExpression<DB, TB>,
  columns: readonly C[],
): SelectQueryBuilder<DB, TB, O & Pick<UserRow, C>> {
  const untyped = query as unknown as SelectQueryBuilder<Database, 'users', object>;
  return untyped
    .innerJoin('users as u', 'u.id', userId as never)
    .select(columns.map((column) => `u.${column}` as const)) as unknown as SelectQueryBuilder<
    DB,
    TB,
    O & Pick<UserRow, C>
  >;
}

/**
 * What another module does in the transaction that sets a new password, on that transaction and
 * after the new hash is written: recovery deletes the account's outstanding reset links
 * (`deletePasswordResetLinks`, wired in src/services.ts; accounts sits below recovery and cannot
 * import it).
 */
export type PasswordChangedHook = (trx: Kysely<Database>, userId: number) => Promise<void>;

/** Sets a new password: the change and the reset of recovery both write through this. */
export interface PasswordWriter {
  updatePasswordHash(id: number, passwordHash: string, nowMs: number): Promise<void>;
}

/**
 * Every way of setting a password ends here (change, reset, and whatever comes later), and
 * `onPasswordChanged` runs in the same transaction: every outstanding reset link dies with the old
 * password, so a link mailed before the change (perhaps to an attacker who asked for it) cannot undo
 * it (OWASP Forgot Password Cheat Sheet: reset tokens are single use and short-lived, and are
 * invalidated when the password changes). The hook is required: no writer exists without it.
 */
export function createPasswordWriter(db: Kysely<Database>, onPasswordChanged: PasswordChangedHook): PasswordWriter {
  return {
    async updatePasswordHash(id, passwordHash, nowMs) {
      await transactionWithRetry(db, async (trx) => {
        await trx
          .updateTable('users')
          .set({ password_hash: passwordHash, updated_at: nowMs })
          .where('id', '=', id)
          .execute();
        await onPasswordChanged(trx, id);
      });
    },
  };
}

/**
 * Makes `email` the account's address, verified, on the caller's transaction (recovery's email
 * change, which spends its pending change in the same transaction). The unique index on
 * `email_normalized` decides a race for one address: the loser's UPDATE throws a unique violation
 * (src/db/errors.ts `uniqueViolation`), on every database.
 */
export async function setVerifiedEmail(
  executor: Kysely<Database>,
  userId: number,
  email: string,
  nowMs: number,
): Promise<void> {
  await executor
    .updateTable('users')
    .set({ email, email_normalized: canonicalEmail(email), email_verified: 1, updated_at: nowMs })
    .where('id', '=', userId)
    .execute();
}

export function normalizeUsername(username: string): string {
  return username.toLowerCase();
}

/**
 * A finished sign-in on the account's row: the login time and, with `clearFailures`, the untrusted
 * clients' failure count and brute-force lock forgotten (a success resets it, as in Keycloak; a
 * device cookie's success leaves the strangers' count alone). The sessions module runs it in the
 * statement or transaction that opens the session, so a sign-in is written whole or not at all.
 */
export function recordSignIn(
  db: QueryCreator<Database>,
  userId: number,
  nowMs: number,
  clearFailures: boolean,
): UpdateQueryBuilder<Database, 'users', 'users', UpdateResult> {
  return db
    .updateTable('users')
    .set(clearFailures ? { last_login_at: nowMs, ...clearedFailures } : { last_login_at: nowMs })
    .where('id', '=', userId);
}

/** The sign-in lookup's query on the users table, to which a caller may add columns of its own. */
export type UsersQuery = SelectQueryBuilder<Database, 'users', UserRow>;

/**
 * The account a login identifier names (a username, or an address when it holds '@'), read by
 * `extend`'s query: the sign-in adds its second factors' flags (two-factor's EXISTS), so a sign-in
 * reads the account and its factors in one query while the SQL on the users table stays here.
 * Compiled once (src/db/compiled.ts); undefined when no account carries exactly the identifier's key.
 */
export function accountLookupByLogin<X extends object>(
  extend: (query: UsersQuery) => SelectQueryBuilder<Database, 'users', UserRow & X>,
): (db: Kysely<Database>, identifier: string) => Promise<(UserRow & X) | undefined> {
  const by = (column: 'username_normalized' | 'email_normalized'): CompiledOnce<[key: string], UserRow & X> =>
    compiledOnce<[key: string], UserRow & X>((qb, arg) =>
      extend(qb.selectFrom('users').selectAll('users').where(column, '=', arg(0))),
    );
  const byUsername = by('username_normalized');
  const byEmail = by('email_normalized');
  return async (db, identifier) => {
    // The row must carry exactly the key, not just one the database collation calls equal: MariaDB's
    // default collation ignores trailing spaces and accents ('alice ' = 'alicé' = 'alice'). Else a
    // spelling would name an account on MariaDB but not elsewhere, and its lockout budget (shared with
    // the account's when it exists, its own when not) would tell which accounts exist (OWASP
    // Authentication Cheat Sheet, account enumeration).
    if (!identifier.includes('@')) {
      const key = normalizeUsername(identifier);
      const row = (await byUsername(db, key)).rows[0];
      return row?.username_normalized === key ? row : undefined;
    }
    const key = emailLookupKey(identifier);
    if (key === null) return undefined;
    const row = (await byEmail(db, key)).rows[0];
    return row?.email_normalized === key ? row : undefined;
  };
}

export function createAccountsRepository(db: Kysely<Database>, dialect: Dialect): AccountsRepository {
  // What every sign-in reads and writes, compiled once (compiled.ts).
  const byLogin = accountLookupByLogin((query) => query);
  const byId = compiledOnce<[id: number], UserRow>((qb, arg) =>
    qb.selectFrom('users').selectAll().where('id', '=', arg(0)),
  );
  return {
    insert: (user) =>
      insertWithId(db, dialect, 'users', {
        username: user.username,
        username_normalized: normalizeUsername(user.username),
        email: user.email,
        email_normalized: user.email === null ? null : canonicalEmail(user.email),
        email_verified: user.emailVerified ? 1 : 0,
        password_hash: user.passwordHash,
        role: user.role,
        created_at: user.nowMs,
        updated_at: user.nowMs,
      }),
    findById: async (id) => (await byId(db, id)).rows[0],
    findByLogin: (identifier) => byLogin(db, identifier),
    async replacePasswordHash(id, expected, passwordHash, nowMs) {
      const result = await db
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: nowMs })
        .where('id', '=', id)
        .where('password_hash', '=', expected)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async updateRole(id, role, nowMs) {
      await db.updateTable('users').set({ role, updated_at: nowMs }).where('id', '=', id).execute();
    },
    async findContactByEmail(email) {
      const key = emailLookupKey(email);
      if (key === null) return undefined;
      const row = await db
        .selectFrom('users')
        .select(CONTACT_COLUMNS)
        .where('email_normalized', '=', key)
        .executeTakeFirst();
      return row && toContact(row);
    },
    async findContactById(id) {
      const row = await db.selectFrom('users').select(CONTACT_COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && toContact(row);
    },
    async markEmailVerified(userId, nowMs, whileEmailKey) {
      let update = db.updateTable('users').set({ email_verified: 1, updated_at: nowMs }).where('id', '=', userId);
      if (whileEmailKey !== undefined) update = update.where('email_normalized', '=', whileEmailKey);
      await update.execute();
    },
    async searchUsers({ q, limit, offset }) {
      let base = db.selectFrom('users');
      if (q) {
        // The *_normalized columns are already lower-case, so the match is case-insensitive everywhere.
        const pattern = likeContains(q);
        // Addresses are compared in their canonical form (email-address.ts), so is the query.
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
  };
}
