import { parseArgs } from 'node:util';

/** What `npm run bench -- …` asked for. */
export interface BenchOptions {
  /**
   * `sqlite` (default): the full run. `postgres`, `mysql`: scenarios 1, 2 and 4 on that server, with and without
   * Redis, and the two-instance variant.
   */
  db: 'sqlite' | 'postgres' | 'mysql';
  /** Only the soak of the read scenario (BENCH_SOAK_SECONDS). */
  soak: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run bench [-- --db sqlite|postgres|mysql | --soak]

  (no flags)      every scenario on SQLite, against the ceiling and better-auth
  --db postgres   scenarios 1, 2 and 4 on PostgreSQL (BENCH_PG_URL, or PGHOST/PGPORT/PGUSER;
                  default postgres://postgres@127.0.0.1:5432): Twofold with Redis (BENCH_REDIS_URL,
                  default redis://127.0.0.1:6379/15, flushed), without Redis, the ceiling, two instances;
                  then scenario 6 on a second database of BENCH_PG_SCALE_ROWS (10000000; 0 skips it)
  --db mysql      the same on MySQL/MariaDB (BENCH_MYSQL_URL, default mysql://root@127.0.0.1:3306)
  --soak          only a soak of the read scenario (BENCH_SOAK_SECONDS, default 300), printing RSS
  --help          this text

environment: BENCH_DURATION (s per run, 10), BENCH_ROUNDS (2), BENCH_USERS (1000), BENCH_TOTP_USERS (4000),
BENCH_PRODUCTS (1000), BENCH_SCALE_ROWS (1000000; 0 skips scenario 6 on SQLite), BENCH_SOAK_SECONDS (300)`;

/** Thrown for a command line a person must fix: run.ts prints the message and the usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  let values: { db?: string | undefined; soak?: boolean | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { db: { type: 'string' }, soak: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    // node:util's messages name the offending flag ("Unknown option '--x'"); add what is accepted.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const db = values.db ?? 'sqlite';
  if (db !== 'sqlite' && db !== 'postgres' && db !== 'mysql')
    throw new UsageError(`--db must be sqlite, postgres or mysql (got "${db}")`);
  if (values.soak && values.db !== undefined)
    throw new UsageError('--soak runs on a fresh SQLite database only; it takes no --db');
  return { db, soak: values.soak ?? false, help: values.help ?? false };
}

export function positiveInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer (got "${process.env[name]}")`);
  return value;
}
