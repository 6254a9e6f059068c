/**
 * Scenario 6 on PostgreSQL (`--db postgres`): the scale step of scale.ts against a second database
 * of BENCH_PG_SCALE_ROWS (10,000,000) users and as many products, seeded inside the server.
 */
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { redactUrl, type DatabaseHandle } from '../src/db/create-database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { Database } from '../src/db/schema.js';
import { createArgon2Hasher, type Argon2Params } from '../src/lib/password-hasher.js';
import { countProducts } from '../src/modules/products/products.repository.js';
import { benchDatabase, dropOnSignal, type BenchDatabase } from './server-database.js';
import { startTwofold, type RunningServer } from './processes.js';
import { measureScale, spreadUsernames, type ScaleOutcome } from './scale.js';
import { BENCH_PASSWORD } from './seed.js';

/** Rows per INSERT … SELECT (one transaction each): a progress line every few seconds, little to redo. */
const CHUNK = 1_000_000;

/** BENCH_PG_SCALE_ROWS (10,000,000); 0 skips the step. */
export function postgresScaleRows(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.BENCH_PG_SCALE_ROWS ?? 10_000_000);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`BENCH_PG_SCALE_ROWS must be 0 or a positive integer (got "${env.BENCH_PG_SCALE_ROWS}")`);
  return value;
}

export interface PostgresScaleContext {
  /** The small-database Twofold of the PostgreSQL run, still running (and warm). */
  small: RunningServer;
  smallUsernames: string[];
  rows: number;
  seconds: number;
  /** The small instance's environment: the big one gets the same, on its own DATABASE_URL. */
  env: Record<string, string>;
}

export interface PostgresScaleOutcome extends ScaleOutcome {
  /** pg_database_size of the big database after seeding and VACUUM. */
  databaseBytes: number;
}

const format = (n: number): string => Math.round(n).toLocaleString('en-US');

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/**
 * Inserts rows `1..total` in chunks, each one server-side `INSERT … SELECT … FROM generate_series`
 * in its own transaction (with `after`, e.g. the product counter, in the same one), printing rows/s.
 */
async function insertSeries(
  db: Kysely<Database>,
  label: string,
  total: number,
  insert: (from: number, to: number) => RawBuilder<unknown>,
  after: (trx: Kysely<Database>, count: number) => Promise<void> = async () => undefined,
): Promise<void> {
  const started = performance.now();
  for (let from = 1; from <= total; from += CHUNK) {
    const to = Math.min(total, from + CHUNK - 1);
    await db.transaction().execute(async (trx) => {
      await insert(from, to).execute(trx);
      await after(trx, to - from + 1);
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(`   ${label}: ${format(to)} / ${format(total)} (${format(to / seconds)} rows/s)`);
  }
}

/**
 * The secondary indexes the migrations put on a table (not its primary key, which the foreign keys
 * need), with their definitions as PostgreSQL reports them (pg_indexes): dropped before the load and
 * recreated from those very statements after it, so they end up identical. Building a B-tree once
 * from sorted input beats inserting 10,000,000 keys one by one into a tree larger than the buffer
 * cache (PostgreSQL manual, "Populating a Database": "Remove Indexes").
 */
async function secondaryIndexes(
  db: Kysely<Database>,
  table: 'users' | 'products',
): Promise<Array<{ name: string; definition: string }>> {
  const result = await sql<{ indexname: string; indexdef: string }>`
    select i.indexname, i.indexdef from pg_indexes i
    where i.schemaname = current_schema() and i.tablename = ${table}
      and not exists (select 1 from pg_constraint c where c.conname = i.indexname)
    order by i.indexname`.execute(db);
  return result.rows.map((row) => ({ name: row.indexname, definition: row.indexdef }));
}

const elapsed = (since: number): string => ((performance.now() - since) / 1000).toFixed(1);

/**
 * One table's load on a connection of its own: its secondary indexes dropped, the rows inserted
 * (insertSeries), the indexes rebuilt, then VACUUM (ANALYZE): the planner's statistics, and the hint
 * bits and visibility map set now rather than by the first reads or by an autovacuum of ten million
 * fresh rows during the measurement.
 */
async function loadTable(
  db: Kysely<Database>,
  table: 'users' | 'products',
  load: (db: Kysely<Database>) => Promise<void>,
): Promise<void> {
  await db.connection().execute(async (conn) => {
    // For this session's index builds (the default 64 MB sorts ten million keys on disk).
    await sql`set maintenance_work_mem = '512MB'`.execute(conn);
    const indexes = await secondaryIndexes(conn, table);
    for (const index of indexes) await sql`drop index ${sql.id(index.name)}`.execute(conn);
    await load(conn);
    for (const index of indexes) {
      const started = performance.now();
      await sql.raw(index.definition).execute(conn);
      console.log(`   index ${index.name} built in ${elapsed(started)} s`);
    }
    const started = performance.now();
    await sql`vacuum (analyze) ${sql.table(table)}`.execute(conn);
    console.log(`   VACUUM (ANALYZE) ${table} in ${elapsed(started)} s`);
  });
}

/**
 * The seeding's own pool, whose clients survive a lost connection. A Ctrl-C drops the database
 * WITH (FORCE), which ends the seeding connection while a transaction holds it; node-postgres then
 * emits 'error' on that client (node-postgres docs, Client, "events: error"), and unheard it would
 * crash the process before the other database is dropped. The query in flight still fails, so the
 * seeding stops and its cleanup runs.
 */
function seedingDatabase(url: string): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    displayUrl: redactUrl(url),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/**
 * Migrates the database, then seeds `rows` users (`bench_user_<n>`, filled as seed.ts fills them,
 * all with one real argon2id hash of BENCH_PASSWORD: verifying it costs the same) and as many
 * products, inside the server: no row crosses the network. The two tables load at once, on two
 * connections: the server's WAL writes and inserts then overlap. Returns pg_database_size.
 */
async function seedBig(database: DatabaseHandle, argon2: Argon2Params, rows: number): Promise<number> {
  const { db } = database;
  await migrateToLatest(database);
  const passwordHash = await createArgon2Hasher(argon2).hash(BENCH_PASSWORD);
  const now = Date.now();
  await Promise.all([
    loadTable(db, 'users', (conn) =>
      insertSeries(
        conn,
        'users',
        rows,
        (from, to) => sql`
          insert into users (username, username_normalized, email, email_normalized, email_verified,
                             password_hash, role, created_at, updated_at)
          select 'bench_user_' || n, 'bench_user_' || n, null, null, 0, ${passwordHash}, 'user', ${now}, ${now}
          from generate_series(${from}::bigint, ${to}::bigint) as n`,
      ),
    ),
    loadTable(db, 'products', (conn) =>
      insertSeries(
        conn,
        'products',
        rows,
        (from, to) => sql`
          insert into products (name, description, price_cents, quantity, created_by, created_at, updated_at)
          select 'Product ' || n, 'Seeded product number ' || n, n * 100 + 99, (n % 100)::integer, null, ${now}, ${now}
          from generate_series(${from}::bigint, ${to}::bigint) as n`,
        (trx, count) => countProducts(trx, count),
      ),
    ),
  ]);
  const size = await sql<{ bytes: string }>`select pg_database_size(current_database()) as bytes`.execute(db);
  return Number(size.rows[0]?.bytes);
}

async function dropBig(database: BenchDatabase): Promise<void> {
  await database.drop().then(
    () => console.log(`   dropped ${database.name}`),
    (error: unknown) =>
      console.error(`   could not drop ${database.name}: ${error instanceof Error ? error.message : String(error)}`),
  );
}

/**
 * 6. Scale on PostgreSQL: a database of its own (dropped at the end, also on failure or Ctrl-C),
 * seeded with `rows` users and products, a second Twofold on it, and the read and login measured
 * against the small instance in alternation (scale.ts, measureScale), target p99 ≤ 125%.
 */
export async function runPostgresScale({
  small,
  smallUsernames,
  rows,
  seconds,
  env,
}: PostgresScaleContext): Promise<PostgresScaleOutcome> {
  const database = benchDatabase('postgres');
  // Installed before the database exists: an interrupt at any point leaves nothing behind.
  const unguard = dropOnSignal(database);
  const count = rows.toLocaleString('en-US');
  try {
    await database.create();
    console.log(`6. scale: seeding ${count} users and ${count} products in ${database.displayUrl} …`);
    const started = performance.now();
    const seeding = seedingDatabase(database.url);
    let databaseBytes: number;
    try {
      databaseBytes = await seedBig(seeding, loadConfig(env).argon2, rows);
    } catch (error) {
      // Dropped (WITH (FORCE)) before the pool is closed: a load still running on the other table ends now.
      await database.drop().catch(() => undefined);
      throw error;
    } finally {
      await seeding.close();
    }
    const seedSeconds = (performance.now() - started) / 1000;
    const big = await startTwofold({ ...env, DATABASE_URL: database.url });
    try {
      console.log(
        `   seeded in ${seedSeconds.toFixed(1)} s (database size ${gib(databaseBytes)}); ${count}-row Twofold ready in ${big.readyMs.toFixed(0)} ms; the small database's Twofold still runs: read, then login, in alternation`,
      );
      const results = await measureScale({
        small,
        smallUsernames,
        big,
        bigUsernames: spreadUsernames(rows, (i) => `bench_user_${i + 1}`),
        rows,
        seconds,
      });
      return { results, seedSeconds, readyMs: big.readyMs, databaseBytes };
    } finally {
      await big.stop();
    }
  } finally {
    await dropBig(database);
    unguard();
  }
}
