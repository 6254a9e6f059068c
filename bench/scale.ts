import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { ROUNDS, measureSides, watchServers } from './measure.js';
import { startTwofold, type RunningServer } from './processes.js';
import { percentOf, type Figures, type ScenarioResult } from './report.js';
import { loginOptions, readOptions } from './scenarios.js';
import { BENCH_PASSWORD, seedDatabase } from './seed.js';
import { bearerFor, benchEnv } from './setup.js';

export interface ScaleContext {
  /** The small-database Twofold of scenarios 1-5, still running (and warm). */
  small: RunningServer;
  smallUsernames: string[];
  rows: number;
  seconds: number;
  dataDir: string;
}

/** What a scale step hands back to its run: the two rows, and how long the big database took to seed and serve. */
export interface ScaleOutcome {
  results: ScenarioResult[];
  seedSeconds: number;
  readyMs: number;
}

/** The scale row: the big database's p99 as a percentage of the small one's, both from the same alternation. */
export function scaleRow(scenario: string, big: Figures, small: Figures): ScenarioResult {
  const percent = percentOf(big.p99Ms, small.p99Ms);
  // A side without a completed request (runs shorter than a saturated login's queue) has no p99 to compare.
  const measured = big.requests > 0 && small.requests > 0;
  return {
    scenario,
    twofold: big,
    baseline: small,
    percent,
    target: `p99 ≤ 125% of the small database's (${small.p99Ms} ms; lowest p99 of each side over the alternated rounds)`,
    met: measured && percent <= 125,
    ...(measured
      ? {}
      : { note: 'no p99 to compare: a side completed no request in its runs (lengthen BENCH_DURATION): BELOW' }),
  };
}

/**
 * 1,000 of the big database's users spread over the whole table (every rows/1000-th), so the
 * login path reads rows from all of it, not a hot corner. `nameAt` names the user at an index.
 */
export function spreadUsernames(rows: number, nameAt: (index: number) => string): string[] {
  const step = Math.max(1, Math.floor(rows / 1000));
  return Array.from({ length: 1000 }, (_, i) => nameAt((i * step) % rows));
}

export interface ScalePair {
  small: RunningServer;
  smallUsernames: string[];
  big: RunningServer;
  /** The big database's logins rotate over these (spreadUsernames); the first one also signs in for the read. */
  bigUsernames: string[];
  /** The big database's size, for the rows' names: `6. read, <rows> rows`. */
  rows: number;
  seconds: number;
}

/**
 * The read, then the login, against both servers at once, in alternation (measureSides), so the
 * p99 comparison pairs figures from the same minutes; the small server is already warm from
 * scenarios 1-5, so only the big one gets a warm-up.
 */
export async function measureScale({
  small,
  smallUsernames,
  big,
  bigUsernames,
  rows,
  seconds,
}: ScalePair): Promise<ScenarioResult[]> {
  watchServers([small.pid, big.pid]);
  const count = rows.toLocaleString('en-US');
  const [smallBearer, bigBearer] = await Promise.all([
    bearerFor(small.url, smallUsernames[0] as string),
    bearerFor(big.url, bigUsernames[0] as string),
  ]);
  const [readSmall, readBig] = (await measureSides(
    [
      { label: 'small db', options: readOptions(`${small.url}/api/products?limit=20`, smallBearer), warm: true },
      { label: 'big db', options: readOptions(`${big.url}/api/products?limit=20`, bigBearer) },
    ],
    seconds,
    ROUNDS,
    'p99',
  )) as [Figures, Figures];
  const [loginSmall, loginBig] = (await measureSides(
    [
      {
        label: 'small db',
        options: loginOptions(`${small.url}/api/auth/login`, smallUsernames, BENCH_PASSWORD),
        warm: true,
      },
      { label: 'big db', options: loginOptions(`${big.url}/api/auth/login`, bigUsernames, BENCH_PASSWORD) },
    ],
    seconds,
    ROUNDS,
    'p99',
  )) as [Figures, Figures];
  return [
    scaleRow(`6. read, ${count} rows`, readBig, readSmall),
    scaleRow(`6. login, ${count} users`, loginBig, loginSmall),
  ];
}

/**
 * 6. Scale: the same read and login against a database of BENCH_SCALE_ROWS (1,000,000) users and as
 * many products, seeded with bulk inserts, measured against the small database (measureScale).
 */
export async function runScale({ small, smallUsernames, rows, seconds, dataDir }: ScaleContext): Promise<ScaleOutcome> {
  const dir = mkdtempSync(path.join(dataDir, 'scale-'));
  const env = benchEnv(dir);
  const config = loadConfig(env);
  const count = rows.toLocaleString('en-US');
  console.log(`6. scale: seeding ${count} users and ${count} products …`);
  const seeded = await seedDatabase({
    databaseUrl: env.DATABASE_URL as string,
    encryptionKey: config.encryptionKey,
    argon2: config.argon2,
    users: rows,
    totpUsers: 1,
    products: rows,
  });
  const big = await startTwofold(env);
  try {
    console.log(
      `   seeded in ${seeded.seconds.toFixed(1)} s; ${count}-row Twofold ready in ${big.readyMs.toFixed(0)} ms; the small database's Twofold still runs: read, then login, in alternation`,
    );
    const results = await measureScale({
      small,
      smallUsernames,
      big,
      bigUsernames: spreadUsernames(rows, (i) => seeded.usernames[i] as string),
      rows,
      seconds,
    });
    return { results, seedSeconds: seeded.seconds, readyMs: big.readyMs };
  } finally {
    await big.stop();
  }
}
