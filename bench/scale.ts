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

/** The scale row: the big database's p99 as a percentage of the small one's, both from the same alternation. */
function scaleRow(scenario: string, big: Figures, small: Figures): ScenarioResult {
  const percent = percentOf(big.p99Ms, small.p99Ms);
  return {
    scenario,
    twofold: big,
    baseline: small,
    percent,
    target: `p99 ≤ 125% of the small database's (${small.p99Ms} ms; lowest p99 of each side over the alternated rounds)`,
    met: percent <= 125,
  };
}

/**
 * 6. Scale: the same read and login against a database of BENCH_SCALE_ROWS (1,000,000) users and as
 * many products, seeded with bulk inserts. Both servers run at once and are measured in alternation
 * (measureSides), so the p99 comparison pairs figures from the same minutes; the small server is
 * already warm from scenarios 1-5, so only the big one gets a warm-up.
 */
export async function runScale({
  small,
  smallUsernames,
  rows,
  seconds,
  dataDir,
}: ScaleContext): Promise<{ results: ScenarioResult[]; seedSeconds: number; readyMs: number }> {
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
  watchServers([small.pid, big.pid]);
  try {
    console.log(
      `   seeded in ${seeded.seconds.toFixed(1)} s; ${count}-row Twofold ready in ${big.readyMs.toFixed(0)} ms; the small database's Twofold still runs: read, then login, in alternation`,
    );
    const [smallBearer, bigBearer] = await Promise.all([
      bearerFor(small.url, smallUsernames[0] as string),
      bearerFor(big.url, seeded.usernames[0] as string),
    ]);
    // Spread over the whole table, so the login path reads rows from all of it, not a hot corner.
    const step = Math.max(1, Math.floor(rows / 1000));
    const spread = Array.from({ length: 1000 }, (_, i) => seeded.usernames[(i * step) % rows] as string);
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
        { label: 'big db', options: loginOptions(`${big.url}/api/auth/login`, spread, BENCH_PASSWORD) },
      ],
      seconds,
      ROUNDS,
      'p99',
    )) as [Figures, Figures];
    return {
      results: [
        scaleRow(`6. read, ${count} rows`, readBig, readSmall),
        scaleRow(`6. login, ${count} users`, loginBig, loginSmall),
      ],
      seedSeconds: seeded.seconds,
      readyMs: big.readyMs,
    };
  } finally {
    await big.stop();
  }
}
