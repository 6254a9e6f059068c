import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../src/db/create-database.js';

/** A database of its own for one `--db postgres` run, on the server postgresServerUrl() names. */
export interface BenchDatabase {
  name: string;
  /** The URL Twofold and the ceiling are given (DATABASE_URL). */
  url: string;
  displayUrl: string;
  /** Creates the database; returns the server's version. */
  create(): Promise<string>;
  /** Drops it (if it exists), ending any connection still open; safe to call more than once. */
  drop(): Promise<void>;
}

/**
 * The PostgreSQL server to run on: BENCH_PG_URL (any database on it: the bench database is made
 * beside it), else PGHOST, PGPORT, PGUSER and PGPASSWORD, else postgres://postgres@127.0.0.1:5432.
 */
export function postgresServerUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BENCH_PG_URL) return env.BENCH_PG_URL;
  const user = encodeURIComponent(env.PGUSER ?? 'postgres');
  const password = env.PGPASSWORD ? `:${encodeURIComponent(env.PGPASSWORD)}` : '';
  // A socket directory (PGHOST=/var/run/postgresql) goes in the host part percent-encoded, as pg reads it.
  const host = env.PGHOST ? encodeURIComponent(env.PGHOST) : '127.0.0.1';
  return `postgres://${user}${password}@${host}:${env.PGPORT ?? '5432'}/postgres`;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `PostgreSQL at ${redactUrl(url)} is not reachable (${reason}): start it, or point BENCH_PG_URL (or PGHOST, PGPORT, PGUSER) at one`,
      { cause: error },
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function benchDatabase(serverUrl = postgresServerUrl()): BenchDatabase {
  // Lower-case letters, digits and underscores: a plain identifier, quoted anyway.
  const name = `twofold_bench_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    displayUrl: redactUrl(url.toString()),
    create: () =>
      withClient(serverUrl, async (client) => {
        await client.query(`create database "${name}"`);
        return String((await client.query<{ server_version: string }>('show server_version')).rows[0]?.server_version);
      }),
    drop: () =>
      (dropped ??= withClient(serverUrl, async (client) => {
        try {
          // WITH (FORCE) (PostgreSQL 13+) ends the connections a killed Twofold may have left behind.
          await client.query(`drop database if exists "${name}" with (force)`);
        } catch (error) {
          if ((error as { code?: string }).code !== '42601') throw error;
          await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
          await client.query(`drop database if exists "${name}"`);
        }
      })),
  };
}

/** The databases a signal must drop: the run's own, and the scale step's while it exists. */
const guarded = new Set<BenchDatabase>();
let interrupted = false;

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = true;
  const code = signal === 'SIGINT' ? 130 : 143;
  // A server that does not answer must not keep the process alive: give up after 15 s.
  setTimeout(() => process.exit(code), 15_000).unref();
  // Every guarded database is dropped before the exit, not just the first to answer.
  const drops = [...guarded].map((database) => {
    console.error(`\n${signal}: dropping ${database.name} …`);
    return database.drop().then(
      () => console.error(`dropped ${database.name}`),
      (error: unknown) =>
        console.error(`could not drop ${database.name}: ${error instanceof Error ? error.message : String(error)}`),
    );
  });
  void Promise.all(drops).finally(() => process.exit(code));
}

/**
 * Drops the database when the run is interrupted (Ctrl-C, SIGTERM) before its own cleanup runs,
 * then exits; with several guarded databases (the scale step's beside the run's), all of them.
 * Later signals are ignored meanwhile: `npm run` forwards the terminal's Ctrl-C to a process that
 * already got it from the terminal, so every interrupt arrives twice. Returns the function that
 * removes the guard.
 */
export function dropOnSignal(database: BenchDatabase): () => void {
  if (guarded.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  guarded.add(database);
  return () => {
    if (!guarded.delete(database) || guarded.size > 0) return;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
