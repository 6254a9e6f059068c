import { randomBytes } from 'node:crypto';
import { redactUrl } from '../src/db/create-database.js';

/** The database servers `--db` can run on (SQLite needs no server). */
export type ServerDialect = 'postgres' | 'mysql';

/** A database of its own for one `--db postgres|mysql` run, on the server serverUrl() names. */
export interface BenchDatabase {
  dialect: ServerDialect;
  name: string;
  /** The URL Twofold and the ceiling are given (DATABASE_URL). */
  url: string;
  displayUrl: string;
  /** Creates the database; returns the server's version. */
  create(): Promise<string>;
  /** Drops it (if it exists), ending any connection still open; safe to call more than once. */
  drop(): Promise<void>;
}

/** One administrative connection to the server (not to the bench database). */
interface Admin {
  run(statement: string, values?: unknown[]): Promise<Array<Record<string, unknown>>>;
  end(): Promise<void>;
}

/** What differs between the two servers: how to connect, the version, and how to drop with connections open. */
interface DialectPart {
  title: string;
  /** The variables that point the bench at another server, for the error message. */
  settings: string;
  connect(url: string): Promise<Admin>;
  version(admin: Admin): Promise<string>;
  drop(admin: Admin, name: string): Promise<void>;
}

const POSTGRES: DialectPart = {
  title: 'PostgreSQL',
  settings: 'BENCH_PG_URL (or PGHOST, PGPORT, PGUSER)',
  async connect(url) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    await client.connect();
    return {
      run: async (statement, values) => (await client.query(statement, values)).rows as Array<Record<string, unknown>>,
      end: () => client.end(),
    };
  },
  version: async (admin) => String((await admin.run('show server_version'))[0]?.server_version),
  async drop(admin, name) {
    try {
      // WITH (FORCE) (PostgreSQL 13+) ends the connections a killed Twofold may have left behind.
      await admin.run(`drop database if exists "${name}" with (force)`);
    } catch (error) {
      if ((error as { code?: string }).code !== '42601') throw error;
      await admin.run('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      await admin.run(`drop database if exists "${name}"`);
    }
  },
};

const MYSQL: DialectPart = {
  title: 'MySQL',
  settings: 'BENCH_MYSQL_URL',
  async connect(url) {
    const { default: mysql } = await import('mysql2/promise');
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 5000 });
    return {
      run: async (statement, values) => {
        const [rows] = await connection.query(statement, values);
        return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
      },
      end: () => connection.end(),
    };
  },
  version: async (admin) => String((await admin.run('select version() as version'))[0]?.version),
  async drop(admin, name) {
    // MySQL has no DROP … FORCE: end the connections a killed Twofold may have left open first
    // (an open transaction's metadata lock would make DROP DATABASE wait for it).
    const open = await admin.run('select id from information_schema.processlist where db = ?', [name]);
    for (const { id } of open) await admin.run(`kill ${Number(id)}`).catch(() => undefined);
    await admin.run(`drop database if exists \`${name}\``);
  },
};

const PARTS: Record<ServerDialect, DialectPart> = { postgres: POSTGRES, mysql: MYSQL };

export function dialectTitle(dialect: ServerDialect): string {
  return PARTS[dialect].title;
}

/**
 * The server to run on. PostgreSQL: BENCH_PG_URL (any database on it: the bench database is made
 * beside it), else PGHOST, PGPORT, PGUSER and PGPASSWORD, else postgres://postgres@127.0.0.1:5432.
 * MySQL/MariaDB: BENCH_MYSQL_URL, else mysql://root@127.0.0.1:3306.
 */
export function serverUrl(dialect: ServerDialect, env: NodeJS.ProcessEnv = process.env): string {
  if (dialect === 'mysql') return env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
  if (env.BENCH_PG_URL) return env.BENCH_PG_URL;
  const user = encodeURIComponent(env.PGUSER ?? 'postgres');
  const password = env.PGPASSWORD ? `:${encodeURIComponent(env.PGPASSWORD)}` : '';
  // A socket directory (PGHOST=/var/run/postgresql) goes in the host part percent-encoded, as pg reads it.
  const host = env.PGHOST ? encodeURIComponent(env.PGHOST) : '127.0.0.1';
  return `postgres://${user}${password}@${host}:${env.PGPORT ?? '5432'}/postgres`;
}

async function withAdmin<T>(part: DialectPart, url: string, work: (admin: Admin) => Promise<T>): Promise<T> {
  let admin: Admin;
  try {
    admin = await part.connect(url);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${part.title} at ${redactUrl(url)} is not reachable (${reason}): start it, or point ${part.settings} at one`,
      { cause: error },
    );
  }
  try {
    return await work(admin);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

export function benchDatabase(dialect: ServerDialect, server = serverUrl(dialect)): BenchDatabase {
  const part = PARTS[dialect];
  // Lower-case letters, digits and underscores: a plain identifier on both servers, quoted anyway.
  const name = `twofold_bench_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const url = new URL(server);
  url.pathname = `/${name}`;
  const quoted = dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
  let dropped: Promise<void> | undefined;
  return {
    dialect,
    name,
    url: url.toString(),
    displayUrl: redactUrl(url.toString()),
    create: () =>
      withAdmin(part, server, async (admin) => {
        // utf8mb4 as Twofold's own pool uses (MySQL's older utf8 cannot hold every character).
        await admin.run(`create database ${quoted}${dialect === 'mysql' ? ' character set utf8mb4' : ''}`);
        return part.version(admin);
      }),
    drop: () => (dropped ??= withAdmin(part, server, (admin) => part.drop(admin, name))),
  };
}

/** What a signal must clean up: the run's database, the scale step's while it exists, and their extras. */
const guarded = new Map<BenchDatabase, () => Promise<void>>();
let interrupted = false;

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = true;
  const code = signal === 'SIGINT' ? 130 : 143;
  // A server that does not answer must not keep the process alive: give up after 15 s.
  setTimeout(() => process.exit(code), 15_000).unref();
  // Every guarded database is dropped before the exit, not just the first to answer.
  const drops = [...guarded].flatMap(([database, also]) => {
    console.error(`\n${signal}: dropping ${database.name} …`);
    return [
      database.drop().then(
        () => console.error(`dropped ${database.name}`),
        (error: unknown) =>
          console.error(`could not drop ${database.name}: ${error instanceof Error ? error.message : String(error)}`),
      ),
      also().catch(() => undefined),
    ];
  });
  void Promise.all(drops).finally(() => process.exit(code));
}

/**
 * Drops the database (and runs `alsoOnSignal`) when the run is interrupted (Ctrl-C, SIGTERM) before
 * its own cleanup runs, then exits; with several guarded databases (the scale step's beside the
 * run's), all of them. Later signals are ignored meanwhile: `npm run` forwards the terminal's
 * Ctrl-C to a process that already got it from the terminal, so every interrupt arrives twice.
 * Returns the function that removes the guard.
 */
export function dropOnSignal(database: BenchDatabase, alsoOnSignal: () => Promise<void> = async () => {}): () => void {
  if (guarded.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  guarded.set(database, alsoOnSignal);
  return () => {
    if (!guarded.delete(database) || guarded.size > 0) return;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
