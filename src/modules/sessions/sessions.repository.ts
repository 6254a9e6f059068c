import type { Insertable, Kysely, Selectable } from 'kysely';
import { compiledOnce, type Arg, type CompiledOnce } from '../../db/compiled.js';
import { insertedId, returningId } from '../../db/insert.js';
import type { Dialect } from '../../db/create-database.js';
import { retryOnDeadlock } from '../../db/errors.js';
import { transactionWithRetry } from '../../db/transaction.js';
import type { Database, SessionsTable } from '../../db/schema.js';
import { joinUserColumns, PRESENTED_USER_COLUMNS, recordSignIn } from '../accounts/accounts.repository.js';
import { factorsOn, selectFactorFlags } from '../two-factor/factor-flags.js';

export type SessionRow = Selectable<SessionsTable>;

export interface NewSession {
  userId: number;
  amr: string[];
  userAgent: string | null;
  ip: string | null;
  nowMs: number;
  expiresAtMs: number;
}

/** The user's fields an answer with tokens shows (the HTTP contract `user`), read with the token. */
export interface RefreshTokenUser {
  id: number;
  username: string;
  email: string | null;
  role: string;
  email_verified: number;
  created_at: number;
  totp: boolean;
  emailFactor: boolean;
  passkey: boolean;
}

export interface RefreshTokenRecord {
  sessionId: number;
  userId: number;
  user: RefreshTokenUser;
  amr: string;
  /** When the person last proved a password or second factor in this session (epoch ms). */
  authenticatedAt: number;
  usedAt: number | null;
  /** Keyed hash of the client (IP address and user agent) that spent the token. */
  usedBy: string | null;
  tokenExpiresAt: number;
  sessionRevokedAt: number | null;
  sessionExpiresAt: number;
  sessionLastUsedAt: number;
}

export interface SessionsRepository {
  /**
   * A sign-in: the new session, its first refresh token (expiring with the session) and the
   * account's login time (accounts' `recordSignIn`, with `clearFailures` its failure count
   * forgotten), all or nothing; answers the session's id.
   */
  openSession(session: NewSession, tokenHash: string, clearFailures: boolean): Promise<number>;
  insertRefreshToken(tokenHash: string, sessionId: number, nowMs: number, expiresAtMs: number): Promise<void>;
  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /** Guarded single use: true only for the one caller whose UPDATE changed the row. */
  spendRefreshToken(tokenHash: string, nowMs: number, usedBy: string): Promise<boolean>;
  /**
   * A fresh proof of the person in a live session: records its time and methods, and spends the
   * session's unspent refresh tokens (the caller stores the next one). False when the session has ended.
   */
  reauthenticate(sessionId: number, amr: string[], nowMs: number, usedBy: string): Promise<boolean>;
  extendSession(sessionId: number, nowMs: number, expiresAtMs: number): Promise<void>;
  findSession(sessionId: number): Promise<SessionRow | undefined>;
  /** The session with its user's current role; undefined when either no longer exists. */
  findSessionState(sessionId: number): Promise<SessionStateRow | undefined>;
  listActive(userId: number, nowMs: number): Promise<SessionRow[]>;
  revoke(sessionId: number, nowMs: number): Promise<boolean>;
  revokeForUser(userId: number, nowMs: number, exceptSessionId?: number): Promise<number>;
  transaction<T>(work: (repository: SessionsRepository) => Promise<T>): Promise<T>;
}

export interface SessionStateRow {
  user_id: number;
  revoked_at: number | null;
  expires_at: number;
  role: string;
}

interface FindRefreshRow {
  session_id: number;
  used_at: number | null;
  used_by: string | null;
  token_expires_at: number;
  user_id: number;
  amr: string;
  authenticated_at: number;
  revoked_at: number | null;
  session_expires_at: number;
  session_last_used_at: number;
  username: string;
  email: string | null;
  role: string;
  email_verified: number;
  created_at: number;
  totp: number | boolean;
  email_factor: number | boolean;
  passkey: number | boolean;
}

/**
 * The statements every sign-in and refresh sends, compiled once per repository (compiled.ts) and
 * shared with its transactions.
 */
type NewSessionValues = [
  userId: number,
  amr: string,
  userAgent: string | null,
  ip: string | null,
  nowMs: number,
  expiresAtMs: number,
];

type OpenSession = CompiledOnce<[...NewSessionValues, tokenHash: string], { session_id: number }>;
type SignedIn = CompiledOnce<[userId: number, nowMs: number], never>;

interface HotStatements {
  /** Answers the new id: RETURNING on SQLite and PostgreSQL, the insert id on MySQL. */
  insertSession: CompiledOnce<NewSessionValues, { id: number }>;
  /** PostgreSQL only: the whole sign-in in one statement; [keeping, clearing] the failure count. */
  openSession: [OpenSession, OpenSession] | undefined;
  /** Elsewhere, in the session's transaction: the account's login time; [keeping, clearing] the failure count. */
  signedIn: [SignedIn, SignedIn];
  findRefresh: CompiledOnce<[tokenHash: string], FindRefreshRow>;
  insertRefresh: CompiledOnce<[tokenHash: string, sessionId: number, nowMs: number, expiresAtMs: number], never>;
  spendRefresh: CompiledOnce<[tokenHash: string, nowMs: number, usedBy: string], never>;
  extendSession: CompiledOnce<[sessionId: number, nowMs: number, expiresAtMs: number], never>;
}

/** A new session's row over the slots of NewSessionValues. */
function sessionValues(arg: Arg): Insertable<SessionsTable> {
  return {
    user_id: arg(0),
    amr: arg(1),
    user_agent: arg(2),
    ip: arg(3),
    created_at: arg(4),
    last_used_at: arg(4),
    expires_at: arg(5),
    // A session opens on a sign-in: the person has just proved who they are.
    authenticated_at: arg(4),
  };
}

function openSessionStatement(clearFailures: boolean): OpenSession {
  return compiledOnce<[...NewSessionValues, tokenHash: string], { session_id: number }>((db, arg) =>
    db
      .with('opened', (qb) => qb.insertInto('sessions').values(sessionValues(arg)).returning('id'))
      .with('signed_in', (qb) => recordSignIn(qb, arg(0), arg(4), clearFailures).returning('id'))
      .insertInto('refresh_tokens')
      .values((eb) => ({
        token_hash: arg(6),
        session_id: eb.selectFrom('opened').select('opened.id'),
        created_at: arg(4),
        expires_at: arg(5),
      }))
      .returning('session_id'),
  );
}

function signedInStatement(clearFailures: boolean): SignedIn {
  return compiledOnce<[userId: number, nowMs: number], never>((db, arg) =>
    recordSignIn(db, arg(0), arg(1), clearFailures),
  );
}

function hotStatements(dialect: Dialect): HotStatements {
  return {
    insertSession: compiledOnce<NewSessionValues, { id: number }>((db, arg) =>
      returningId(db.insertInto('sessions').values(sessionValues(arg)), dialect),
    ),
    /*
     * A sign-in sent five statements (BEGIN, two INSERTs, COMMIT, the login time's UPDATE), each a
     * round trip costing both processes CPU. PostgreSQL runs data-modifying WITHs and the statement
     * that uses their RETURNING as one statement, atomic without a transaction block, and checks the
     * token's foreign key after every row exists (PostgreSQL manual, "Data-Modifying Statements in
     * WITH"). SQLite and MySQL have no INSERT or UPDATE in WITH: they keep the transaction.
     */
    openSession: dialect === 'postgres' ? [openSessionStatement(false), openSessionStatement(true)] : undefined,
    signedIn: [signedInStatement(false), signedInStatement(true)],
    /**
     * Every refresh starts here: the token, its session, and the user and second factors its answer
     * shows, in one query. The user's columns are joined by accounts, which owns the users table,
     * and the second factors' flags selected by two-factor, which owns their tables.
     */
    findRefresh: compiledOnce<[tokenHash: string], FindRefreshRow>((db, arg) =>
      db
        .selectFrom('refresh_tokens as t')
        .innerJoin('sessions as s', 's.id', 't.session_id')
        .select([
          't.session_id',
          't.used_at',
          't.used_by',
          't.expires_at as token_expires_at',
          's.user_id',
          's.amr',
          's.authenticated_at',
          's.revoked_at',
          's.expires_at as session_expires_at',
          's.last_used_at as session_last_used_at',
        ])
        .$call((query) => selectFactorFlags(query, 's.user_id'))
        .$call((query) => joinUserColumns(query, 's.user_id', PRESENTED_USER_COLUMNS))
        .where('t.token_hash', '=', arg(0)),
    ),
    insertRefresh: compiledOnce<[tokenHash: string, sessionId: number, nowMs: number, expiresAtMs: number], never>(
      (db, arg) =>
        db
          .insertInto('refresh_tokens')
          .values({ token_hash: arg(0), session_id: arg(1), created_at: arg(2), expires_at: arg(3) }),
    ),
    spendRefresh: compiledOnce<[tokenHash: string, nowMs: number, usedBy: string], never>((db, arg) =>
      db
        .updateTable('refresh_tokens')
        .set({ used_at: arg(1), used_by: arg(2) })
        .where('token_hash', '=', arg(0))
        .where('used_at', 'is', null),
    ),
    extendSession: compiledOnce<[sessionId: number, nowMs: number, expiresAtMs: number], never>((db, arg) =>
      db
        .updateTable('sessions')
        .set({ last_used_at: arg(1), expires_at: arg(2) })
        .where('id', '=', arg(0)),
    ),
  };
}

export function createSessionsRepository(
  db: Kysely<Database>,
  dialect: Dialect,
  hot: HotStatements = hotStatements(dialect),
): SessionsRepository {
  return {
    async openSession(s, tokenHash, clearFailures) {
      const values: NewSessionValues = [s.userId, s.amr.join(','), s.userAgent, s.ip, s.nowMs, s.expiresAtMs];
      const which = clearFailures ? 1 : 0;
      if (hot.openSession) {
        const statement = hot.openSession[which];
        const run = (): ReturnType<OpenSession> => statement(db, ...values, tokenHash);
        // It writes the users row, as an account's deletion does (the row, then its children): PostgreSQL
        // may pick it as that deadlock's victim; it is one statement, so running it again is the whole sign-in.
        // Inside a caller's transaction a failed statement has aborted it: that transaction's retry reruns it.
        const result = await (db.isTransaction ? run() : retryOnDeadlock(run));
        return Number(result.rows[0]?.session_id);
      }
      const write = async (trx: Kysely<Database>): Promise<number> => {
        const sessionId = insertedId(await hot.insertSession(trx, ...values));
        await hot.insertRefresh(trx, tokenHash, sessionId, s.nowMs, s.expiresAtMs);
        await hot.signedIn[which](trx, s.userId, s.nowMs);
        return sessionId;
      };
      // Kysely cannot nest transactions: inside a caller's (`transaction`), the writes join it.
      return db.isTransaction ? write(db) : transactionWithRetry(db, write);
    },
    async insertRefreshToken(tokenHash, sessionId, nowMs, expiresAtMs) {
      await hot.insertRefresh(db, tokenHash, sessionId, nowMs, expiresAtMs);
    },
    async findRefreshToken(tokenHash) {
      const row = (await hot.findRefresh(db, tokenHash)).rows[0];
      if (!row) return undefined;
      const factors = factorsOn(row);
      return {
        sessionId: row.session_id,
        userId: row.user_id,
        user: {
          id: row.user_id,
          username: row.username,
          email: row.email,
          role: row.role,
          email_verified: row.email_verified,
          created_at: row.created_at,
          totp: factors.totp,
          emailFactor: factors.email,
          passkey: factors.passkey,
        },
        amr: row.amr,
        authenticatedAt: row.authenticated_at,
        usedAt: row.used_at,
        usedBy: row.used_by,
        tokenExpiresAt: row.token_expires_at,
        sessionRevokedAt: row.revoked_at,
        sessionExpiresAt: row.session_expires_at,
        sessionLastUsedAt: row.session_last_used_at,
      };
    },
    async spendRefreshToken(tokenHash, nowMs, usedBy) {
      return Number((await hot.spendRefresh(db, tokenHash, nowMs, usedBy)).numAffectedRows) === 1;
    },
    async reauthenticate(sessionId, amr, nowMs, usedBy) {
      const result = await db
        .updateTable('sessions')
        .set({ authenticated_at: nowMs, amr: amr.join(',') })
        .where('id', '=', sessionId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await db
        .updateTable('refresh_tokens')
        .set({ used_at: nowMs, used_by: usedBy })
        .where('session_id', '=', sessionId)
        .where('used_at', 'is', null)
        .execute();
      return true;
    },
    async extendSession(sessionId, nowMs, expiresAtMs) {
      await hot.extendSession(db, sessionId, nowMs, expiresAtMs);
    },
    findSession: (sessionId) => db.selectFrom('sessions').selectAll().where('id', '=', sessionId).executeTakeFirst(),
    findSessionState: (sessionId) =>
      db
        .selectFrom('sessions as s')
        .select(['s.user_id', 's.revoked_at', 's.expires_at'])
        .$call((query) => joinUserColumns(query, 's.user_id', ['role']))
        .where('s.id', '=', sessionId)
        .executeTakeFirst(),
    listActive: (userId, nowMs) =>
      db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', nowMs)
        .orderBy('last_used_at', 'desc')
        .orderBy('id', 'desc')
        .execute(),
    async revoke(sessionId, nowMs) {
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: nowMs })
        .where('id', '=', sessionId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async revokeForUser(userId, nowMs, exceptSessionId) {
      let query = db
        .updateTable('sessions')
        .set({ revoked_at: nowMs })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null);
      if (exceptSessionId !== undefined) query = query.where('id', '!=', exceptSessionId);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    // A refresh racing the account's deletion (whose cascades lock the same session and token rows
    // in another order) can be InnoDB's or PostgreSQL's deadlock victim: the whole transaction runs
    // again, and then finds the token gone (401), never a 500.
    transaction: (work) => transactionWithRetry(db, (trx) => work(createSessionsRepository(trx, dialect, hot))),
  };
}
