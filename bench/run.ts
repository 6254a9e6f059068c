/**
 * `npm run bench`: Twofold (the real `node dist/main.js serve`, in production mode) against a
 * bare-Fastify ceiling doing the same work by hand, one scenario at a time, plus cold start and
 * resident memory. See bench/README.md for how each figure is measured.
 * BENCH_DURATION=seconds per measured run (default 10; 3 for a quick look); BENCH_USERS (1000),
 * BENCH_TOTP_USERS (4000), BENCH_PRODUCTS (1000) size the seeded database.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, scrypt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config.js';
import type { CeilingReady } from './ceiling-server.js';
import { ROOT, forkChild, startTwofold, waitIdle, type RunningServer } from './processes.js';
import { describeMachine, failureNotes, figuresOf, markdownTable, percentOf, writeResults, type Figures, type ScenarioResult } from './report.js';
import { BENCH_PASSWORD, seedDatabase } from './seed.js';
import { CONNECTIONS, loginOptions, peerTwoFactorLoginOptions, readOptions, refreshOptions, totpUserPicker, twoFactorLoginOptions, writeOptions } from './scenarios.js';

const HERE = path.join(ROOT, 'bench');
const PEER_DIR = path.join(HERE, 'peers/better-auth');

/** What bench/peers/better-auth/server.ts reports (kept here: the peer is outside the root typecheck). */
interface PeerReady {
  type: 'ready';
  url: string;
  password: string;
  emails: string[];
  totpUsers: Array<{ email: string; secret: string }>;
  sessionCookie: string;
  passwordHash: string;
  version: string;
}

/** better-auth is a dependency of the benchmark only, installed into its own folder on first use. */
function ensurePeerInstalled(): void {
  if (existsSync(path.join(PEER_DIR, 'node_modules/better-auth/package.json'))) return;
  console.log('installing the better-auth peer (npm ci in bench/peers/better-auth) …');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--silent'], { cwd: PEER_DIR, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Milliseconds for one hash verification on one thread, the median of `runs` sequential ones. */
async function hashMs(work: () => Promise<unknown>, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)] as number;
}

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

/** The processes under test, waited on until idle around every run. */
const serverPids: number[] = [];

/** One side alone, one round (the better-auth hashing runs and the scale runs). */
async function measure(label: string, options: autocannon.Options, seconds: number): Promise<Figures> {
  const [figures] = await measureSides([{ label, options }], seconds, 1);
  return figures as Figures;
}

const ROUNDS = positiveInt('BENCH_ROUNDS', 2);
/** Each run that ends cuts the chains of the requests in flight (their answers are never read): 50 per run. */
const REFRESH_CHAINS = CONNECTIONS * (ROUNDS + 2);

/**
 * Runs the sides of one comparison in alternation, ROUNDS times, and keeps each side's best run:
 * a neighbour's burst of load on a shared machine then costs a round, not the comparison.
 */
async function measureSides(sides: Array<{ label: string; options: autocannon.Options }>, seconds: number, rounds = ROUNDS): Promise<Figures[]> {
  const best: Array<Figures | undefined> = sides.map(() => undefined);
  for (const side of sides) await autocannon({ ...side.options, duration: Math.max(1, Math.round(seconds / 5)) });
  await waitIdle(serverPids);
  for (let round = 1; round <= rounds; round++) {
    for (const [i, side] of sides.entries()) {
      const figures = figuresOf(await autocannon({ ...side.options, duration: seconds }));
      await waitIdle(serverPids);
      console.log(`  ${side.label.padEnd(12)} ${figures.requestsPerSecond.toFixed(1).padStart(9)} req/s   p50 ${figures.p50Ms} ms   p99 ${figures.p99Ms} ms${rounds > 1 ? `   (round ${round})` : ''}${figures.non2xx ? `   (${figures.non2xx} non-2xx)` : ''}`);
      const current = best[i];
      if (!current || figures.requestsPerSecond > current.requestsPerSecond) best[i] = figures;
    }
  }
  return best as Figures[];
}

interface Context {
  twofold: RunningServer;
  ceiling: CeilingReady;
  peer: PeerReady;
  usernames: string[];
  totpUsers: Array<{ username: string; secret: string }>;
  seconds: number;
}

async function runScenarios({ twofold, ceiling, peer, usernames, totpUsers, seconds }: Context): Promise<ScenarioResult[]> {
  const peerOrigin = { origin: peer.url };
  // better-auth's scrypt takes ~170 ms a hash: 50 queued sign-ins answer after seconds, so its
  // hashing scenarios run 3× longer (≥ 30 s) to count a steady state rather than the first wave.
  const slowSeconds = Math.max(30, 3 * seconds);
  const results: ScenarioResult[] = [];
  const signedIn = await postJSON<{ access_token: string }>(`${twofold.url}/api/auth/login`, { username: usernames[0], password: BENCH_PASSWORD });
  const bearer = { authorization: `Bearer ${signedIn.access_token}` };

  console.log('1. protected read: GET /api/products?limit=20 with a Bearer token');
  const [read, readCeiling, readPeer] = (await measureSides(
    [
      { label: 'Twofold', options: readOptions(`${twofold.url}/api/products?limit=20`, bearer) },
      { label: 'ceiling', options: readOptions(`${ceiling.url}/products?limit=20`, bearer) },
      { label: 'better-auth', options: readOptions(`${peer.url}/api/products?limit=20`, { cookie: peer.sessionCookie }) },
    ],
    seconds,
  )) as [Figures, Figures, Figures];
  const readPercent = percentOf(read.requestsPerSecond, readCeiling.requestsPerSecond);
  const readTimes = read.requestsPerSecond / readPeer.requestsPerSecond;
  results.push({
    scenario: '1. GET /api/products?limit=20',
    twofold: read,
    ceiling: readCeiling,
    peer: readPeer,
    percent: readPercent,
    target: '≥ 70% of ceiling, ≥ 3× better-auth, p99 < 10 ms',
    met: readPercent >= 70 && readTimes >= 3 && read.p99Ms < 10,
  });

  console.log(`2. password login: POST /api/auth/login over ${usernames.length} users`);
  const [login, loginCeiling] = (await measureSides(
    [
      { label: 'Twofold', options: loginOptions(`${twofold.url}/api/auth/login`, usernames, BENCH_PASSWORD) },
      { label: 'ceiling', options: loginOptions(`${ceiling.url}/login`, usernames, BENCH_PASSWORD) },
    ],
    seconds,
  )) as [Figures, Figures];
  const loginPeer = await measure('better-auth', loginOptions(`${peer.url}/api/auth/sign-in/email`, peer.emails, peer.password, 'email', peerOrigin), slowSeconds);
  const loginPercent = percentOf(login.requestsPerSecond, loginCeiling.requestsPerSecond);
  results.push({ scenario: '2. POST /api/auth/login', twofold: login, ceiling: loginCeiling, peer: loginPeer, percent: loginPercent, target: '≥ 80% of raw argon2id', met: loginPercent >= 80 });

  console.log(`3. two-factor login: password step, then TOTP step (${totpUsers.length} TOTP users, each at most once per 30 s step)`);
  const twoFactor = await measure('Twofold', twoFactorLoginOptions(twofold.url, totpUserPicker(totpUsers), BENCH_PASSWORD), seconds);
  const twoFactorPeer = await measure('better-auth', peerTwoFactorLoginOptions(peer.url, totpUserPicker(peer.totpUsers), peer.password), slowSeconds);
  // Two requests make one login: compare logins per second with the password login's.
  const perLogin = (figures: Figures): Figures => ({ ...figures, requestsPerSecond: figures.requestsPerSecond / 2 });
  const twoFactorLogins = perLogin(twoFactor);
  const twoFactorPercent = percentOf(twoFactorLogins.requestsPerSecond, login.requestsPerSecond);
  results.push({ scenario: '3. two-factor login (logins/s)', twofold: twoFactorLogins, peer: perLogin(twoFactorPeer), percent: twoFactorPercent, target: '≥ 80% of password logins/s', met: twoFactorPercent >= 80 });

  console.log('4. refresh: POST /api/auth/refresh, each connection rotating its own chain');
  const chains = await Promise.all(
    Array.from({ length: REFRESH_CHAINS }, (_, i) =>
      postJSON<{ refresh_token: string }>(`${twofold.url}/api/auth/login`, { username: usernames[i % usernames.length], password: BENCH_PASSWORD }).then((t) => t.refresh_token),
    ),
  );
  const [refresh, refreshCeiling] = (await measureSides(
    [
      { label: 'Twofold', options: refreshOptions(`${twofold.url}/api/auth/refresh`, chains) },
      { label: 'ceiling', options: refreshOptions(`${ceiling.url}/refresh`, [...ceiling.refreshTokens]) },
    ],
    seconds,
  )) as [Figures, Figures];
  const refreshPercent = percentOf(refresh.requestsPerSecond, refreshCeiling.requestsPerSecond);
  results.push({ scenario: '4. POST /api/auth/refresh', twofold: refresh, ceiling: refreshCeiling, percent: refreshPercent, target: '≥ 80% of ceiling', met: refreshPercent >= 80 });

  console.log('5. write: POST /api/products');
  const [write, writeCeiling] = (await measureSides(
    [
      { label: 'Twofold', options: writeOptions(`${twofold.url}/api/products`, bearer) },
      { label: 'ceiling', options: writeOptions(`${ceiling.url}/products`, bearer) },
    ],
    seconds,
  )) as [Figures, Figures];
  const writePercent = percentOf(write.requestsPerSecond, writeCeiling.requestsPerSecond);
  results.push({ scenario: '5. POST /api/products', twofold: write, ceiling: writeCeiling, percent: writePercent, target: '≥ 70% of ceiling', met: writePercent >= 70 });
  return results;
}

/**
 * 6. Scale: the same read and login against a database of BENCH_SCALE_ROWS (1,000,000) users and as
 * many products, seeded with bulk inserts; p99 must stay within 25% of the small database's.
 */
async function runScale(small: ScenarioResult[], rows: number, seconds: number, dataDir: string): Promise<{ results: ScenarioResult[]; seedSeconds: number }> {
  const dir = mkdtempSync(path.join(dataDir, 'scale-'));
  const env = benchEnv(dir);
  const config = loadConfig(env);
  console.log(`6. scale: seeding ${rows.toLocaleString('en-US')} users and ${rows.toLocaleString('en-US')} products …`);
  const seeded = await seedDatabase({ databaseUrl: env.DATABASE_URL as string, encryptionKey: config.encryptionKey, argon2: config.argon2, users: rows, totpUsers: 1, products: rows });
  console.log(`   seeded in ${seeded.seconds.toFixed(1)} s`);
  const big = await startTwofold(env);
  serverPids.splice(0, serverPids.length, big.pid);
  try {
    const signedIn = await postJSON<{ access_token: string }>(`${big.url}/api/auth/login`, { username: seeded.usernames[0], password: BENCH_PASSWORD });
    // Spread over the whole table, so the login path reads rows from all of it, not a hot corner.
    const step = Math.max(1, Math.floor(rows / 1000));
    const spread = Array.from({ length: 1000 }, (_, i) => seeded.usernames[(i * step) % rows] as string);
    const read = await measure('Twofold', readOptions(`${big.url}/api/products?limit=20`, { authorization: `Bearer ${signedIn.access_token}` }), seconds);
    const login = await measure('Twofold', loginOptions(`${big.url}/api/auth/login`, spread, BENCH_PASSWORD), seconds);
    const compared = (scenario: string, figures: Figures, reference: ScenarioResult): ScenarioResult => {
      const percent = percentOf(figures.p99Ms, reference.twofold.p99Ms);
      return { scenario, twofold: figures, percent, target: `p99 ≤ 125% of the small database's (${reference.twofold.p99Ms} ms)`, met: percent <= 125 };
    };
    return {
      results: [compared(`6. read, ${rows.toLocaleString('en-US')} rows`, read, small[0] as ScenarioResult), compared(`6. login, ${rows.toLocaleString('en-US')} users`, login, small[1] as ScenarioResult)],
      seedSeconds: seeded.seconds,
    };
  } finally {
    await big.stop();
  }
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
    console.log(`load: autocannon, ${CONNECTIONS} connections, ${seconds} s per run after a warm-up (BENCH_DURATION), one run at a time; compared sides alternate for ${ROUNDS} rounds, best run kept (BENCH_ROUNDS)\n`);

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
    const ceiling = await forkChild<CeilingReady>(path.join(HERE, 'ceiling-server.ts'), { ...env, BENCH_REFRESH_CHAINS: String(REFRESH_CHAINS) });
    stoppers.push(() => ceiling.stop());
    ensurePeerInstalled();
    const peerDir = path.join(dataDir, 'peer');
    mkdirSync(peerDir);
    const peer = await forkChild<PeerReady>(path.join(PEER_DIR, 'server.ts'), { NODE_ENV: 'production', BENCH_DATA_DIR: peerDir, BENCH_USERS: '1000', BENCH_TOTP_USERS: '300', BENCH_PRODUCTS: String(positiveInt('BENCH_PRODUCTS', 1000)) });
    stoppers.push(() => peer.stop());
    serverPids.push(twofold.pid, ceiling.pid, peer.pid);
    const argon2 = `argon2id m=${config.argon2.memoryKiB} KiB t=${config.argon2.iterations} p=${config.argon2.parallelism}`;
    const argon2Stored = await argon2Hash(BENCH_PASSWORD, { algorithm: 2, memoryCost: config.argon2.memoryKiB, timeCost: config.argon2.iterations, parallelism: config.argon2.parallelism });
    const hashCost = {
      twofoldMs: await hashMs(() => argon2Verify(argon2Stored, BENCH_PASSWORD), 21),
      // better-auth's default: node:crypto scrypt N=16384 r=16 p=1, 64-byte key (@better-auth/utils/password).
      peerMs: await hashMs(() => new Promise((resolve, reject) => scrypt(BENCH_PASSWORD, 'saltsaltsaltsalt', 64, { N: 16384, r: 16, p: 1, maxmem: 128 * 16384 * 16 * 2 }, (e, k) => (e ? reject(e) : resolve(k)))), 11),
    };
    console.log(`better-auth ${peer.ready.version} at ${peer.ready.url}: ${peer.ready.passwordHash}`);
    console.log(`one hash on one thread: Twofold ${argon2} ${hashCost.twofoldMs.toFixed(1)} ms; better-auth scrypt ${hashCost.peerMs.toFixed(1)} ms`);
    console.log(`servers: Twofold ${twofold.url} (pid ${twofold.pid}, ${env.DATABASE_URL}), ceiling ${ceiling.ready.url}; password hashing ${argon2}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}\n`);

    const results = await runScenarios({ twofold, ceiling: ceiling.ready, peer: peer.ready, usernames: seeded.usernames, totpUsers: seeded.totpUsers, seconds });
    const afterLoadRssMiB = twofold.rssMiB();
    const scaleRows = Number(process.env.BENCH_SCALE_ROWS ?? 1_000_000);
    if (scaleRows > 0) {
      await twofold.stop();
      const scale = await runScale(results, scaleRows, seconds, dataDir);
      results.push(...scale.results);
    }

    console.log(`\n${machine.cpu} (${machine.cores} cores), Node ${machine.node}, ${argon2}, ${CONNECTIONS} connections, ${seconds} s per run, ${machine.date.slice(0, 10)}\n`);
    console.log(markdownTable(results));
    console.log('');
    console.log(`| 7. cold start to /readyz = 200 | empty database: ${coldStart.readyMs.toFixed(0)} ms | seeded database: ${seededStart.readyMs.toFixed(0)} ms | target < 1500 ms: ${Math.max(coldStart.readyMs, seededStart.readyMs) < 1500 ? 'meets' : 'BELOW'} |`);
    console.log(`| resident memory (RSS) | idle ${seededStart.idleRssMiB} MiB | after the load ${afterLoadRssMiB} MiB | target < 150 MiB: ${afterLoadRssMiB < 150 ? 'meets' : 'BELOW'} |`);
    const logins = results[1] as ScenarioResult;
    // Logins per second × seconds per hash = how many threads' worth of hashing each service keeps busy:
    // the same figure for both means the difference in logins/s is only the hash, not the service.
    const busy = (rps: number, ms: number): string => ((rps * ms) / 1000).toFixed(2);
    console.log(
      `| password hashing | Twofold ${argon2}: ${hashCost.twofoldMs.toFixed(1)} ms per hash, ${busy(logins.twofold.requestsPerSecond, hashCost.twofoldMs)} hash-seconds per second | ` +
        `better-auth ${peer.ready.passwordHash}: ${hashCost.peerMs.toFixed(1)} ms per hash, ${busy(logins.peer?.requestsPerSecond ?? 0, hashCost.peerMs)} hash-seconds per second | (${machine.cores} cores) |`,
    );
    for (const note of failureNotes(results)) console.log(note);
    const file = writeResults(path.join(HERE, 'results'), date, { machine, connections: CONNECTIONS, durationSeconds: seconds, argon2: config.argon2, hashCost, peer: { version: peer.ready.version, passwordHash: peer.ready.passwordHash }, results, coldStart, seededStart, afterLoadRssMiB });
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
