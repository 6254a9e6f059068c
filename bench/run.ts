/**
 * `npm run bench`: Twofold (the real `node dist/main.js serve`, in production mode) against a
 * bare-Fastify ceiling doing the same work by hand, one scenario at a time, plus cold start and
 * resident memory. See bench/README.md for how each figure is measured.
 * BENCH_DURATION=seconds per measured run (default 10; 3 for a quick look); BENCH_USERS (1000),
 * BENCH_TOTP_USERS (4000), BENCH_PRODUCTS (1000) size the seeded database.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config.js';
import type { CeilingReady } from './ceiling-server.js';
import { ROOT, forkChild, startTwofold, type RunningServer } from './processes.js';
import { describeMachine, failureNotes, figuresOf, markdownTable, percentOf, writeResults, type Figures, type ScenarioResult } from './report.js';
import { BENCH_PASSWORD, seedDatabase } from './seed.js';
import { CONNECTIONS, loginOptions, readOptions, refreshOptions, totpUserPicker, twoFactorLoginOptions, writeOptions } from './scenarios.js';

const HERE = path.join(ROOT, 'bench');

function positiveInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer (got "${process.env[name]}")`);
  return value;
}

function benchEnv(dataDir: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: `sqlite:${path.join(dataDir, 'twofold.db')}`,
    TWOFOLD_DATA_DIR: dataDir,
    JWT_ALG: 'HS256',
    JWT_SECRET: randomBytes(48).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // Long enough that the tokens minted before the runs outlive them.
    ACCESS_TOKEN_TTL: '12h',
    LOG_LEVEL: 'warn',
    // All load comes from one address (127.0.0.1): the per-IP limits would measure the limiter.
    RATE_LIMIT_LOGIN: '1000000',
    RATE_LIMIT_REGISTER: '1000000',
    RATE_LIMIT_RECOVERY: '1000000',
  };
}

async function postJSON<T>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function measure(label: string, options: autocannon.Options, seconds: number): Promise<Figures> {
  // A short unrecorded warm-up lets V8 optimise the hot path and fills caches on both sides alike.
  await autocannon({ ...options, duration: Math.max(1, Math.round(seconds / 5)) });
  const figures = figuresOf(await autocannon({ ...options, duration: seconds }));
  console.log(`  ${label.padEnd(12)} ${figures.requestsPerSecond.toFixed(1).padStart(9)} req/s   p50 ${figures.p50Ms} ms   p99 ${figures.p99Ms} ms${figures.non2xx ? `   (${figures.non2xx} non-2xx)` : ''}`);
  return figures;
}

interface Context {
  twofold: RunningServer;
  ceiling: CeilingReady;
  usernames: string[];
  totpUsers: Array<{ username: string; secret: string }>;
  seconds: number;
}

async function runScenarios({ twofold, ceiling, usernames, totpUsers, seconds }: Context): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const signedIn = await postJSON<{ access_token: string }>(`${twofold.url}/api/auth/login`, { username: usernames[0], password: BENCH_PASSWORD });
  const bearer = { authorization: `Bearer ${signedIn.access_token}` };

  console.log('1. protected read: GET /api/products?limit=20 with a Bearer token');
  const read = await measure('Twofold', readOptions(`${twofold.url}/api/products?limit=20`, bearer), seconds);
  const readCeiling = await measure('ceiling', readOptions(`${ceiling.url}/products?limit=20`, bearer), seconds);
  results.push({ scenario: '1. GET /api/products?limit=20', twofold: read, ceiling: readCeiling, percent: percentOf(read.requestsPerSecond, readCeiling.requestsPerSecond), target: '≥ 70% of ceiling, p99 < 10 ms', met: percentOf(read.requestsPerSecond, readCeiling.requestsPerSecond) >= 70 && read.p99Ms < 10 });

  console.log(`2. password login: POST /api/auth/login over ${usernames.length} users`);
  const login = await measure('Twofold', loginOptions(`${twofold.url}/api/auth/login`, usernames, BENCH_PASSWORD), seconds);
  const loginCeiling = await measure('ceiling', loginOptions(`${ceiling.url}/login`, usernames, BENCH_PASSWORD), seconds);
  const loginPercent = percentOf(login.requestsPerSecond, loginCeiling.requestsPerSecond);
  results.push({ scenario: '2. POST /api/auth/login', twofold: login, ceiling: loginCeiling, percent: loginPercent, target: '≥ 80% of raw argon2id', met: loginPercent >= 80 });

  console.log(`3. two-factor login: password step, then TOTP step (${totpUsers.length} TOTP users, each at most once per 30 s step)`);
  const twoFactor = await measure('Twofold', twoFactorLoginOptions(twofold.url, totpUserPicker(totpUsers), BENCH_PASSWORD), seconds);
  // Two requests make one login: compare logins per second with the password login's.
  const twoFactorLogins: Figures = { ...twoFactor, requestsPerSecond: twoFactor.requestsPerSecond / 2 };
  const twoFactorPercent = percentOf(twoFactorLogins.requestsPerSecond, login.requestsPerSecond);
  results.push({ scenario: '3. two-factor login (logins/s)', twofold: twoFactorLogins, percent: twoFactorPercent, target: '≥ 80% of password logins/s', met: twoFactorPercent >= 80 });

  console.log('4. refresh: POST /api/auth/refresh, each connection rotating its own chain');
  const chains = await Promise.all(
    Array.from({ length: 2 * CONNECTIONS }, (_, i) =>
      postJSON<{ refresh_token: string }>(`${twofold.url}/api/auth/login`, { username: usernames[i % usernames.length], password: BENCH_PASSWORD }).then((t) => t.refresh_token),
    ),
  );
  const refresh = await measure('Twofold', refreshOptions(`${twofold.url}/api/auth/refresh`, chains), seconds);
  const refreshCeiling = await measure('ceiling', refreshOptions(`${ceiling.url}/refresh`, [...ceiling.refreshTokens]), seconds);
  const refreshPercent = percentOf(refresh.requestsPerSecond, refreshCeiling.requestsPerSecond);
  results.push({ scenario: '4. POST /api/auth/refresh', twofold: refresh, ceiling: refreshCeiling, percent: refreshPercent, target: '≥ 80% of ceiling', met: refreshPercent >= 80 });

  console.log('5. write: POST /api/products');
  const write = await measure('Twofold', writeOptions(`${twofold.url}/api/products`, bearer), seconds);
  const writeCeiling = await measure('ceiling', writeOptions(`${ceiling.url}/products`, bearer), seconds);
  const writePercent = percentOf(write.requestsPerSecond, writeCeiling.requestsPerSecond);
  results.push({ scenario: '5. POST /api/products', twofold: write, ceiling: writeCeiling, percent: writePercent, target: '≥ 70% of ceiling', met: writePercent >= 70 });
  return results;
}

function build(): void {
  console.log('building (npm run build) …');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function main(): Promise<void> {
  const seconds = positiveInt('BENCH_DURATION', 10);
  const date = new Date();
  const machine = describeMachine(date);
  build();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-bench-'));
  const stoppers: Array<() => Promise<void>> = [];
  try {
    console.log(`Twofold benchmark, ${machine.date}`);
    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}`);
    console.log(`load: autocannon, ${CONNECTIONS} connections, ${seconds} s per run after a warm-up (BENCH_DURATION), one run at a time\n`);

    // 7. Cold start on an empty database (migrations included), then idle memory.
    const fresh = await startTwofold(benchEnv(mkdtempSync(path.join(dataDir, 'fresh-'))));
    const coldStart = { readyMs: fresh.readyMs, idleRssMiB: fresh.rssMiB() };
    await fresh.stop();
    console.log(`7. cold start (empty database, migrations applied): ready in ${coldStart.readyMs.toFixed(0)} ms, RSS ${coldStart.idleRssMiB} MiB idle`);

    const env = benchEnv(dataDir);
    const config = loadConfig(env);
    const seeded = await seedDatabase({
      databaseUrl: env.DATABASE_URL as string,
      encryptionKey: config.encryptionKey,
      argon2: config.argon2,
      users: positiveInt('BENCH_USERS', 1000),
      totpUsers: positiveInt('BENCH_TOTP_USERS', 4000),
      products: positiveInt('BENCH_PRODUCTS', 1000),
    });
    console.log(`seeded ${seeded.usernames.length} users, ${seeded.totpUsers.length} TOTP users, ${positiveInt('BENCH_PRODUCTS', 1000)} products in ${seeded.seconds.toFixed(1)} s`);

    const twofold = await startTwofold(env);
    stoppers.push(() => twofold.stop());
    const seededStart = { readyMs: twofold.readyMs, idleRssMiB: twofold.rssMiB() };
    console.log(`   cold start (seeded database): ready in ${seededStart.readyMs.toFixed(0)} ms, RSS ${seededStart.idleRssMiB} MiB idle`);
    const ceiling = await forkChild<CeilingReady>(path.join(HERE, 'ceiling-server.ts'), { ...env, BENCH_REFRESH_CHAINS: String(2 * CONNECTIONS) });
    stoppers.push(() => ceiling.stop());
    const argon2 = `argon2id m=${config.argon2.memoryKiB} KiB t=${config.argon2.iterations} p=${config.argon2.parallelism}`;
    console.log(`servers: Twofold ${twofold.url} (pid ${twofold.pid}, ${env.DATABASE_URL}), ceiling ${ceiling.ready.url}; password hashing ${argon2}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}\n`);

    const results = await runScenarios({ twofold, ceiling: ceiling.ready, usernames: seeded.usernames, totpUsers: seeded.totpUsers, seconds });
    const afterLoadRssMiB = twofold.rssMiB();

    console.log(`\n${machine.cpu} (${machine.cores} cores), Node ${machine.node}, ${argon2}, ${CONNECTIONS} connections, ${seconds} s per run, ${machine.date.slice(0, 10)}\n`);
    console.log(markdownTable(results));
    console.log('');
    console.log(`| 7. cold start to /readyz = 200 | empty database: ${coldStart.readyMs.toFixed(0)} ms | seeded database: ${seededStart.readyMs.toFixed(0)} ms | target < 1500 ms: ${Math.max(coldStart.readyMs, seededStart.readyMs) < 1500 ? 'meets' : 'BELOW'} |`);
    console.log(`| resident memory (RSS) | idle ${seededStart.idleRssMiB} MiB | after the load ${afterLoadRssMiB} MiB | target < 150 MiB: ${afterLoadRssMiB < 150 ? 'meets' : 'BELOW'} |`);
    for (const note of failureNotes(results)) console.log(note);
    const file = writeResults(path.join(HERE, 'results'), date, { machine, connections: CONNECTIONS, durationSeconds: seconds, argon2: config.argon2, results, coldStart, seededStart, afterLoadRssMiB });
    console.log(`\nfigures written to ${path.relative(process.cwd(), file)}`);
  } finally {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
