import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  MysqlDialect,
  PostgresDialect,
  SqliteDialect,
  sql,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';
import type * as Mysql from 'mysql2';
import type * as Pg from 'pg';
import { lazy } from '../lib/lazy.js';
import { PREPARED_PER_CONNECTION, withPreparedStatements } from './mysql-prepared-statements.js';
import { withNamedStatements } from './pg-named-statements.js';
import type { Database } from './schema.js';

// Only the driver of the configured database is ever loaded.
const pg = lazy<typeof Pg>('pg');
const mysql = lazy<typeof Mysql>('mysql2');

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** The URL with any password removed, for logs. */
  readonly displayUrl: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function dialectOf(url: string): Dialect {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  if (/^(mysql|mariadb):\/\//.test(url)) return 'mysql';
  throw new TypeError(`DATABASE_URL must start with sqlite:, postgres:// or mysql:// (got "${redactUrl(url)}").`);
}

export function createDatabase(url: string): DatabaseHandle {
  const dialect = dialectOf(url);
  const db = new Kysely<Database>({ dialect: buildDialect(dialect, url) });
  return {
    db,
    dialect,
    displayUrl: redactUrl(url),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

function buildDialect(dialect: Dialect, url: string): SqliteDialect | PostgresDialect | MysqlDialect {
  if (dialect === 'sqlite')
    return new SqliteDialect({ database: withStatementCache(openSqlite(url.slice('sqlite:'.length))) });
  if (dialect === 'postgres') {
    const pool = new (pg().Pool)({ connectionString: url, max: 10, types: pgTypes() });
    // An idle client whose server connection ends (PostgreSQL restarted, an administrator's
    // terminate) emits 'error' on the pool; without a listener that would crash the process.
    // The pool drops that client, and the next query opens a new connection.
    pool.on('error', () => undefined);
    return new PostgresDialect({ pool: withNamedStatements(pool) });
  }
  const mysqlUrl = url.replace(/^mariadb:/, 'mysql:');
  return new MysqlDialect({
    pool: withPreparedStatements(
      mysql().createPool({
        uri: mysqlUrl,
        connectionLimit: 10,
        supportBigNumbers: true,
        bigNumberStrings: false,
        charset: 'utf8mb4',
        maxPreparedStatements: PREPARED_PER_CONNECTION,
      }),
    ),
  });
}

function openSqlite(file: string): SQLite.Database {
  const memory = file === ':memory:' || file === '';
  if (!memory) createPrivately(file);
  const database = new SQLite(memory ? ':memory:' : file);
  // WAL lets readers run beside the writer; busy_timeout waits for a lock instead of failing.
  database.pragma('journal_mode = WAL');
  if (!memory) for (const suffix of ['-wal', '-shm']) restrict(file + suffix);
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  return database;
}

/**
 * The database holds password hashes, sessions and encrypted secrets: only the service's own user
 * may read it (CWE-732, incorrect permission assignment for a critical resource). A folder we create is
 * 0700 and the file 0600 before SQLite first opens it; SQLite creates the -wal and -shm files with
 * the database file's permissions, and any left from before are tightened too.
 */
function createPrivately(file: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  restrict(file);
}

function restrict(file: string): void {
  if (existsSync(file)) chmodSync(file, 0o600);
}

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, and preparing is
 * a large part of a small query's cost. The set of distinct SQL texts is small and fixed.
 * (Safe because nothing here streams results: a statement is never in use twice at once.)
 */
function withStatementCache(database: SQLite.Database, maxStatements = 500): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare(text) {
      let statement = statements.get(text);
      if (!statement) {
        if (statements.size >= maxStatements) statements.clear();
        statement = database.prepare(text);
        statements.set(text, statement);
      }
      return statement;
    },
    close: () => database.close(),
  };
}

// BIGINT (oid 20) holds epoch milliseconds and cents, both far below 2^53: read them as numbers.
// `pg` asks for a column's parser on every result it reads: answering with the one built-in
// function (not a new closure each time) keeps that per-row call cheap on the read path.
function pgTypes(): { getTypeParser: typeof Pg.types.getTypeParser } {
  const { types } = pg();
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === 20 ? Number : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
  };
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
