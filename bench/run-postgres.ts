/**
 * `npm run bench -- --db postgres`: scenarios 1 (read), 2 (password login) and 4 (refresh) on a
 * PostgreSQL database made for the run (dropped at its end, also on failure or Ctrl-C), against the
 * ceiling on the same database; and two Twofold instances on that database beside one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import type { CeilingReady } from './ceiling-server.js';
import { REFRESH_CHAINS, ROUNDS, measureSides, watchServers } from './measure.js';
import { positiveInt } from './options.js';
import { benchDatabase, dropOnSignal } from './postgres-database.js';
import { ROOT, forkChild, startTwofold, type RunningServer } from './processes.js';
import {
  failureNotes,
  headerLines,
  markdownTable,
  num,
  percentOf,
  writeResults,
  type Figures,
  type Machine,
  type ScenarioResult,
} from './report.js';
import { CONNECTIONS, loginOptions, readOptions, refreshOptions } from './scenarios.js';
import { BENCH_PASSWORD, seedDatabase } from './seed.js';
import { bearerFor, benchEnv, refreshChains } from './setup.js';

/** Below this, two instances are reported as not (yet) showing growth on this machine. */
const GROWTH = 1.2;

/** Two instances (half the connections each, figures summed) against one with all of them. */
function twoInstanceRow(scenario: string, two: Figures, one: Figures, cores: number): ScenarioResult {
  const ratio = two.requestsPerSecond / one.requestsPerSecond;
  const shared =
    ratio < GROWTH
      ? `; under ×${GROWTH}: the load generator, both instances and PostgreSQL share this machine's ${cores} cores`
      : '';
  return {
    scenario,
    twofold: two,
    baseline: one,
    target: `throughput grows with instances (×${GROWTH} or more)`,
    percent: 100 * ratio,
    met: ratio >= GROWTH,
    note: `two instances ÷ one instance: ×${ratio.toFixed(2)} (one instance: ${num(one.requestsPerSecond)} req/s, p99 ${num(one.p99Ms)} ms)${shared}`,
  };
}

interface Servers {
  first: RunningServer;
  second: RunningServer;
  ceiling: CeilingReady;
}

async function postgresScenarios(
  { first, second, ceiling }: Servers,
  usernames: string[],
  seconds: number,
  cores: number,
): Promise<ScenarioResult[]> {
  const bearer = await bearerFor(first.url, usernames[0] as string);
  const half = CONNECTIONS / 2;
  const instances = [first, second];

  console.log(
    `1. protected read: GET /api/products?limit=20 with a Bearer token; one instance, the ceiling, two instances (${half} connections each)`,
  );
  const [read, readCeiling, readTwo] = (await measureSides(
    [
      { label: 'Twofold', options: readOptions(`${first.url}/api/products?limit=20`, bearer) },
      { label: 'ceiling', options: readOptions(`${ceiling.url}/products?limit=20`, bearer) },
      {
        label: '2 instances',
        options: instances.map((s) => ({
          ...readOptions(`${s.url}/api/products?limit=20`, bearer),
          connections: half,
        })),
      },
    ],
    seconds,
  )) as [Figures, Figures, Figures];
  const readPercent = percentOf(read.requestsPerSecond, readCeiling.requestsPerSecond);

  console.log(
    `2. password login: POST /api/auth/login over ${usernames.length} users; two instances sign in alternate users`,
  );
  const [login, loginCeiling, loginTwo] = (await measureSides(
    [
      { label: 'Twofold', options: loginOptions(`${first.url}/api/auth/login`, usernames, BENCH_PASSWORD) },
      { label: 'ceiling', options: loginOptions(`${ceiling.url}/login`, usernames, BENCH_PASSWORD) },
      {
        label: '2 instances',
        options: instances.map((s, k) => ({
          ...loginOptions(
            `${s.url}/api/auth/login`,
            usernames.filter((_, i) => i % 2 === k),
            BENCH_PASSWORD,
          ),
          connections: half,
        })),
      },
    ],
    seconds,
  )) as [Figures, Figures, Figures];
  const loginPercent = percentOf(login.requestsPerSecond, loginCeiling.requestsPerSecond);

  console.log('4. refresh: POST /api/auth/refresh, each connection rotating its own chain');
  const chains = await refreshChains(first.url, usernames, REFRESH_CHAINS);
  const [refresh, refreshCeiling] = (await measureSides(
    [
      { label: 'Twofold', options: refreshOptions(`${first.url}/api/auth/refresh`, chains) },
      { label: 'ceiling', options: refreshOptions(`${ceiling.url}/refresh`, [...ceiling.refreshTokens]) },
    ],
    seconds,
  )) as [Figures, Figures];
  const refreshPercent = percentOf(refresh.requestsPerSecond, refreshCeiling.requestsPerSecond);

  return [
    {
      scenario: '1. GET /api/products?limit=20',
      twofold: read,
      ceiling: readCeiling,
      percent: readPercent,
      target: '≥ 70% of ceiling, p99 < 10 ms',
      met: readPercent >= 70 && read.p99Ms < 10,
    },
    twoInstanceRow(`1. read, two instances (2 × ${half} connections)`, readTwo, read, cores),
    {
      scenario: '2. POST /api/auth/login',
      twofold: login,
      ceiling: loginCeiling,
      percent: loginPercent,
      target: '≥ 80% of raw argon2id',
      met: loginPercent >= 80,
    },
    twoInstanceRow(`2. login, two instances (2 × ${half} connections)`, loginTwo, login, cores),
    {
      scenario: '4. POST /api/auth/refresh',
      twofold: refresh,
      ceiling: refreshCeiling,
      percent: refreshPercent,
      target: '≥ 80% of ceiling',
      met: refreshPercent >= 80,
    },
  ];
}

export async function runPostgres(machine: Machine, date: Date, seconds: number): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-bench-'));
  const database = benchDatabase();
  // Installed before the database exists: an interrupt at any point leaves nothing behind.
  const unguard = dropOnSignal(database);
  const stoppers: Array<() => Promise<void>> = [];
  try {
    for (const line of headerLines(machine, 'PostgreSQL')) console.log(line);
    console.log(
      `load: autocannon, ${CONNECTIONS} connections, ${seconds} s per run after a warm-up (BENCH_DURATION); compared sides alternate for ${ROUNDS} rounds, best run kept (BENCH_ROUNDS)`,
    );
    const serverVersion = await database.create();
    console.log(
      `database: ${database.displayUrl} (PostgreSQL ${serverVersion}), made for this run and dropped at its end`,
    );
    console.log(
      'better-auth peer: skipped with --db postgres (it runs on its own SQLite file); the default run compares it\n',
    );

    const env = benchEnv(dataDir, database.url);
    const config = loadConfig(env);
    const products = positiveInt('BENCH_PRODUCTS', 1000);
    const seeded = await seedDatabase({
      databaseUrl: database.url,
      encryptionKey: config.encryptionKey,
      argon2: config.argon2,
      users: positiveInt('BENCH_USERS', 1000),
      totpUsers: 0,
      products,
    });
    console.log(`seeded ${seeded.usernames.length} users and ${products} products in ${seeded.seconds.toFixed(1)} s`);
    // Two instances of the real server on one database, sharing the JWT key (any instance accepts any token).
    const first = await startTwofold(env);
    stoppers.push(() => first.stop());
    const second = await startTwofold(env);
    stoppers.push(() => second.stop());
    const ceiling = await forkChild<CeilingReady>(path.join(ROOT, 'bench/ceiling-server.ts'), {
      ...env,
      BENCH_REFRESH_CHAINS: String(REFRESH_CHAINS),
    });
    stoppers.push(() => ceiling.stop());
    watchServers([first.pid, second.pid, ceiling.pid]);
    const instances = { readyMs: [first.readyMs, second.readyMs], idleRssMiB: [first.rssMiB(), second.rssMiB()] };
    console.log(
      `servers: Twofold ${first.url} and ${second.url} (ready in ${instances.readyMs.map((ms) => ms.toFixed(0)).join(' and ')} ms), ceiling ${ceiling.ready.url}\n`,
    );

    const results = await postgresScenarios(
      { first, second, ceiling: ceiling.ready },
      seeded.usernames,
      seconds,
      machine.cores,
    );
    const afterLoadRssMiB = [first.rssMiB(), second.rssMiB()];

    const argon2 = `argon2id m=${config.argon2.memoryKiB} KiB t=${config.argon2.iterations} p=${config.argon2.parallelism}`;
    console.log(
      `\n${machine.cpu} (${machine.cores} cores), Node ${machine.node}, PostgreSQL ${serverVersion} on ${new URL(database.url).host}, ${argon2}, ${CONNECTIONS} connections, ${seconds} s per run, ${machine.date.slice(0, 10)}\n`,
    );
    console.log(markdownTable(results));
    console.log('');
    console.log(
      `| resident memory (RSS), instance 1 and 2 | idle ${instances.idleRssMiB.join(' and ')} MiB | after the load ${afterLoadRssMiB.join(' and ')} MiB |`,
    );
    console.log('| better-auth | skipped with --db postgres | | |');
    for (const note of failureNotes(results)) console.log(note);
    const file = writeResults(
      path.join(ROOT, 'bench/results'),
      date,
      {
        machine,
        database: { dialect: 'postgres', name: database.name, url: database.displayUrl, serverVersion },
        connections: CONNECTIONS,
        durationSeconds: seconds,
        rounds: ROUNDS,
        argon2: config.argon2,
        peer: 'skipped with --db postgres',
        results,
        instances: { ...instances, afterLoadRssMiB },
      },
      'postgres',
    );
    console.log(`\nfigures written to ${path.relative(process.cwd(), file)}`);
  } finally {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    await database.drop().then(
      () => console.log(`dropped ${database.name}`),
      (error: unknown) => {
        console.error(`could not drop ${database.name}: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      },
    );
    unguard();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
