import { randomBytes } from 'node:crypto';
import { createPool } from 'mysql2/promise';
import pg from 'pg';
import { createDatabase, type DatabaseHandle, type Dialect } from '../../src/db/create-database.js';

/**
 * The database matrix: every suite that takes a dialect runs on SQLite, and on PostgreSQL and
 * MariaDB when their servers answer. TEST_DATABASES narrows the list (e.g. `sqlite,postgres`).
 * With CI=true a server that does not answer is a failure, never a silent skip.
 */
const SERVER_URLS = {
  postgres: process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  mysql: process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/',
} as const;

const requested = (process.env.TEST_DATABASES ?? 'sqlite,postgres,mysql').split(',').map((s) => s.trim()) as Dialect[];

async function reachable(dialect: Dialect): Promise<boolean> {
  try {
    if (dialect === 'postgres') {
      const client = new pg.Client({ connectionString: SERVER_URLS.postgres, connectionTimeoutMillis: 2000 });
      await client.connect();
      await client.end();
    } else if (dialect === 'mysql') {
      const pool = createPool({ uri: SERVER_URLS.mysql, connectTimeout: 2000, connectionLimit: 1 });
      await pool.query('select 1');
      await pool.end();
    }
    return true;
  } catch {
    return false;
  }
}

/** The dialects this run covers; prints what it skips, and throws under CI=true instead. */
export async function testDialects(): Promise<Dialect[]> {
  const available: Dialect[] = [];
  for (const dialect of requested) {
    if (await reachable(dialect)) {
      available.push(dialect);
      continue;
    }
    const message = `${dialect} server at ${SERVER_URLS[dialect as 'postgres' | 'mysql']} is not reachable`;
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: no database may be skipped)`);
    console.warn(`SKIPPED: ${message}; its tests do not run.`);
  }
  return available;
}

export interface TestDatabase {
  url: string;
  handle: DatabaseHandle;
  /** Closes the connection and drops the database. */
  drop(): Promise<void>;
}

/** A fresh database with a unique name (SQLite: in memory), dropped by `drop()`. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const name = `twofold_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    const handle = createDatabase('sqlite::memory:');
    return { url: 'sqlite::memory:', handle, drop: () => handle.close() };
  }
  if (dialect === 'postgres') {
    const admin = new pg.Client({ connectionString: SERVER_URLS.postgres });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = SERVER_URLS.postgres.replace(/\/[^/]*$/, `/${name}`);
    const handle = createDatabase(url);
    return {
      url,
      handle,
      drop: async () => {
        await handle.close();
        const client = new pg.Client({ connectionString: SERVER_URLS.postgres });
        await client.connect();
        await client.query(`drop database if exists ${name} with (force)`);
        await client.end();
      },
    };
  }
  const admin = createPool({ uri: SERVER_URLS.mysql, connectionLimit: 1 });
  await admin.query(`create database ${name} character set utf8mb4 collate utf8mb4_unicode_ci`);
  const url = `${SERVER_URLS.mysql.replace(/\/$/, '')}/${name}`;
  const handle = createDatabase(url);
  return {
    url,
    handle,
    drop: async () => {
      await handle.close();
      await admin.query(`drop database if exists ${name}`);
      await admin.end();
    },
  };
}
