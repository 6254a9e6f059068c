/**
 * `npm run bench`: Twofold (the real `node dist/main.js serve`, in production mode) against a
 * bare-Fastify ceiling doing the same work by hand and the better-auth peer, one scenario at a
 * time (a passkey sign-in on Twofold alone, beside its password logins; the OpenID Connect token
 * endpoint on Twofold alone, beside its refresh: oidc-scenario.ts), plus scale, cold start and
 * resident memory. `-- --db postgres` or `-- --db mysql` runs scenarios 1, 2 and 4 on that
 * server with and without Redis, and two instances (run-server-db.ts); `-- --soak` runs only the
 * read soak (run-soak.ts). See bench/README.md for how each figure is measured.
 * BENCH_DURATION=seconds per measured run (default 10; 3 for a quick look); BENCH_USERS (1000),
 * BENCH_TOTP_USERS (4000), BENCH_PRODUCTS (1000) size the seeded database.
 */
import { execFileSync } from 'node:child_process';
import { scrypt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import type { CeilingReady } from './ceiling-server.js';
import type { CpuWatch } from './cpu.js';
import { compareWithKeycloak, describeArgon2, hashMs, hashingLine } from './hashing.js';
import { KEYCLOAK_ARGON2, KEYCLOAK_NOTE, KEYCLOAK_PER_VCPU } from './keycloak.js';
import { REFRESH_CHAINS, ROUNDS, measure, measureSides, watchServers } from './measure.js';
import { USAGE, UsageError, parseBenchArgs, positiveInt } from './options.js';
import { ROOT, SERVE_NODE_FLAGS, forkChild, startTwofold, type RunningServer } from './processes.js';
import {
  READ_P99_FACTOR,
  costTable,
  describeMachine,
  failureNotes,
  headerLines,
  markdownTable,
  percentOf,
  writeResults,
  type Figures,
  type Machine,
  type ScenarioResult,
} from './report.js';
import { clientCredentialsScenario, codeExchangeScenario } from './oidc-scenario.js';
import { oidcEnv } from './oidc-flow.js';
import { passkeyScenario } from './passkey-scenario.js';
import { runServerDatabase } from './run-server-db.js';
import { runSoak } from './run-soak.js';
import { scenario } from './scenario-row.js';
import { runScale } from './scale.js';
import { BENCH_PASSWORD, addTotpUsers, seedDatabase } from './seed.js';
import {
  CONNECTIONS,
  loginOptions,
  peerTwoFactorLoginOptions,
  readOptions,
  refreshOptions,
  totpUserPicker,
  twoFactorLoginOptions,
  writeOptions,
} from './scenarios.js';
import { bearerFor, benchEnv, build, refreshChains } from './setup.js';

const HERE = path.join(ROOT, 'bench');
const PEER_DIR = path.join(HERE, 'peers/better-auth');
/** The 10-connection read beside the 50-connection one: the latency without 50 requests queued. */
const FEW_CONNECTIONS = 10;

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

/** The peer when it could not be installed or started: its columns and lines say why, its figures are "–". */
interface PeerMissing {
  type: 'missing';
  /** "better-auth peer could not start: <reason>". */
  reason: string;
}

/** better-auth is a dependency of the benchmark only, installed into its own folder on first use. */
function ensurePeerInstalled(): void {
  if (existsSync(path.join(PEER_DIR, 'node_modules/better-auth/package.json'))) return;
  console.log('installing the better-auth peer (npm ci in bench/peers/better-auth) …');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--silent'], {
    cwd: PEER_DIR,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** An error's first line, and the one after it when the first only introduces it (a child's stack). */
function shortReason(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const [first = 'unknown error', second] = lines;
  return first.endsWith(':') && second !== undefined ? `${first} ${second}` : first;
}

/**
 * Installs (first use) and starts the better-auth peer, or says why it cannot: the peer is a
 * comparison, not what is measured, so like Redis in run-server-db.ts it is optional and the run
 * goes on without it.
 */
async function startPeer(
  dataDir: string,
): Promise<{ ready: PeerReady; pid: number; stop(): Promise<void> } | PeerMissing> {
  try {
    ensurePeerInstalled();
    const peerDir = path.join(dataDir, 'peer');
    mkdirSync(peerDir);
    return await forkChild<PeerReady>(path.join(PEER_DIR, 'server.ts'), {
      NODE_ENV: 'production',
      BENCH_DATA_DIR: peerDir,
      BENCH_USERS: '1000',
      BENCH_TOTP_USERS: '300',
      BENCH_PRODUCTS: String(positiveInt('BENCH_PRODUCTS', 1000)),
    });
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).trim();
    const reason = shortReason(message);
    // The whole message (a child's stack) once here; the table and the peer's lines carry the short reason.
    if (message !== reason) console.log(`the better-auth peer failed:\n${message}`);
    return { type: 'missing', reason: `better-auth peer could not start: ${reason}` };
  }
}

interface Context {
  twofold: RunningServer;
  ceiling: CeilingReady;
  peer: PeerReady | PeerMissing;
  /** The processes each side's CPU time is read from (cpu.ts). */
  cpu: { twofold: CpuWatch; ceiling: CpuWatch; peer?: CpuWatch | undefined };
  usernames: string[];
  /** Grows when topUpTotpUsers adds more. */
  totpUsers: Array<{ username: string; secret: string }>;
  /** Seeds `count` more TOTP users into Twofold's database (while it runs) and adds them to `totpUsers`. */
  topUpTotpUsers(count: number): Promise<void>;
  seconds: number;
  /** The relying party Twofold was started with, for the passkey scenario's authenticators. */
  relyingParty: { rpId: string; origins: readonly string[] };
}

/** Scenarios 1-5 and 3b, each a table row; `readFew` is the read at 10 connections, shown under the read. */
interface SmallResults {
  read: ScenarioResult;
  readFew: ScenarioResult;
  login: ScenarioResult;
  twoFactor: ScenarioResult;
  refresh: ScenarioResult;
  write: ScenarioResult;
  passkey: ScenarioResult;
}

/** A user signs in at most once per 30 s step; twice what the measured login rate could use in a step. */
const TOTP_STEP_SECONDS = 30;
const TOTP_HEADROOM = 2;

async function runScenarios({
  twofold,
  ceiling,
  peer,
  cpu,
  usernames,
  totpUsers,
  topUpTotpUsers,
  seconds,
  relyingParty,
}: Context): Promise<SmallResults> {
  const ready = peer.type === 'ready' ? peer : undefined;
  // Where the peer is missing, its column says why instead of a figure.
  const peerMissing = peer.type === 'missing' ? { peerMissing: peer.reason } : {};
  // better-auth's scrypt takes ~170 ms a hash: 50 queued sign-ins answer after seconds, so its
  // hashing scenarios run 3× longer (≥ 30 s) to count a steady state rather than the first wave.
  const slowSeconds = Math.max(30, 3 * seconds);
  const bearer = await bearerFor(twofold.url, usernames[0] as string);

  const readTarget = `≥ 70% of ceiling, ≥ 3× better-auth, p99 ≤ ${READ_P99_FACTOR}× the ceiling's`;
  const read = await scenario('1. GET /api/products?limit=20', readTarget, async () => {
    console.log('1. protected read: GET /api/products?limit=20 with a Bearer token');
    const [twofoldRead, readCeiling, readPeer] = (await measureSides(
      [
        { label: 'Twofold', options: readOptions(`${twofold.url}/api/products?limit=20`, bearer), cpu: cpu.twofold },
        { label: 'ceiling', options: readOptions(`${ceiling.url}/products?limit=20`, bearer), cpu: cpu.ceiling },
        ...(ready
          ? [
              {
                label: 'better-auth',
                options: readOptions(`${ready.url}/api/products?limit=20`, { cookie: ready.sessionCookie }),
                cpu: cpu.peer,
              },
            ]
          : []),
      ],
      seconds,
    )) as [Figures, Figures, Figures | undefined];
    const readPercent = percentOf(twofoldRead.requestsPerSecond, readCeiling.requestsPerSecond);
    const ceilingMet = readPercent >= 70 && twofoldRead.p99Ms <= READ_P99_FACTOR * readCeiling.p99Ms;
    const row = {
      scenario: '1. GET /api/products?limit=20',
      twofold: twofoldRead,
      ceiling: readCeiling,
      percent: readPercent,
      target: readTarget,
    };
    if (!readPeer)
      // Half the target cannot be judged: the row says which half held, and that the other is missing.
      return {
        ...row,
        ...peerMissing,
        note: `${Math.round(readPercent)}% of ceiling and p99 ≤ ${READ_P99_FACTOR}× the ceiling's: ${ceilingMet ? 'meets' : 'BELOW'}; ≥ 3× better-auth: –`,
      };
    const readTimes = twofoldRead.requestsPerSecond / readPeer.requestsPerSecond;
    return { ...row, peer: readPeer, met: ceilingMet && readTimes >= 3 };
  });
  const readFewName = `1. the same read at ${FEW_CONNECTIONS} connections`;
  const readFewTarget = `p99 at ${FEW_CONNECTIONS} connections, beside the ${CONNECTIONS}-connection target`;
  const readFew = await scenario(readFewName, readFewTarget, async () => {
    console.log(`   the same read at ${FEW_CONNECTIONS} connections (Twofold, one run; warmed up by the runs above)`);
    const few = await measure(
      'Twofold',
      { ...readOptions(`${twofold.url}/api/products?limit=20`, bearer), connections: FEW_CONNECTIONS },
      seconds,
      { warm: true },
    );
    return {
      scenario: readFewName,
      twofold: few,
      target: readFewTarget,
      note: `p99 ${few.p99Ms} ms at ${FEW_CONNECTIONS} connections, ${read.twofold.p99Ms} ms at ${CONNECTIONS} (the ceiling's at ${CONNECTIONS}: ${read.ceiling?.p99Ms ?? '–'} ms)`,
    };
  });

  const loginTarget = '≥ 80% of raw argon2id';
  const login = await scenario('2. POST /api/auth/login', loginTarget, async () => {
    console.log(`2. password login: POST /api/auth/login over ${usernames.length} users`);
    const [twofoldLogin, loginCeiling] = (await measureSides(
      [
        {
          label: 'Twofold',
          options: loginOptions(`${twofold.url}/api/auth/login`, usernames, BENCH_PASSWORD),
          cpu: cpu.twofold,
        },
        {
          label: 'ceiling',
          options: loginOptions(`${ceiling.url}/login`, usernames, BENCH_PASSWORD),
          cpu: cpu.ceiling,
        },
      ],
      seconds,
    )) as [Figures, Figures];
    const loginPeer = ready
      ? await measure(
          'better-auth',
          loginOptions(`${ready.url}/api/auth/sign-in/email`, ready.emails, ready.password, 'email', {
            origin: ready.url,
          }),
          slowSeconds,
          { cpu: cpu.peer },
        )
      : undefined;
    const loginPercent = percentOf(twofoldLogin.requestsPerSecond, loginCeiling.requestsPerSecond);
    return {
      scenario: '2. POST /api/auth/login',
      twofold: twofoldLogin,
      ceiling: loginCeiling,
      ...(loginPeer ? { peer: loginPeer } : peerMissing),
      percent: loginPercent,
      target: loginTarget,
      met: loginPercent >= 80,
      keycloakPerVcpu: KEYCLOAK_PER_VCPU.passwordLogins,
    };
  });

  const twoFactorTarget = '≥ 80% of password logins/s';
  const twoFactor = await scenario('3. two-factor login (logins/s)', twoFactorTarget, async () => {
    // The pool must outlast a 30 s step at the measured login rate (a two-factor login starts with
    // the same password step, so it is never faster): seed more now if it would not.
    const needed = Math.ceil(login.twofold.requestsPerSecond * TOTP_STEP_SECONDS * TOTP_HEADROOM);
    if (totpUsers.length < needed) {
      console.log(
        `   ${totpUsers.length} TOTP users would not last a 30 s step at ${login.twofold.requestsPerSecond.toFixed(0)} logins/s: seeding ${needed - totpUsers.length} more`,
      );
      await topUpTotpUsers(needed - totpUsers.length);
    }
    console.log(
      `3. two-factor login: password step, then TOTP step (${totpUsers.length} TOTP users, each at most once per 30 s step)`,
    );
    const pick = totpUserPicker(totpUsers);
    const measured = await measure('Twofold', twoFactorLoginOptions(twofold.url, pick, BENCH_PASSWORD), seconds, {
      cpu: cpu.twofold,
    });
    const peerPick = ready ? totpUserPicker(ready.totpUsers) : undefined;
    const measuredPeer =
      ready && peerPick
        ? await measure('better-auth', peerTwoFactorLoginOptions(ready.url, peerPick, ready.password), slowSeconds)
        : undefined;
    // Two requests make one login: compare logins per second with the password login's.
    const perLogin = (figures: Figures): Figures => ({ ...figures, requestsPerSecond: figures.requestsPerSecond / 2 });
    const twoFactorLogins = perLogin(measured);
    const twoFactorPercent = percentOf(twoFactorLogins.requestsPerSecond, login.twofold.requestsPerSecond);
    const exhausted = [
      ...(pick.exhausted ? [`Twofold's ${totpUsers.length} TOTP users ran out ${pick.exhausted} times`] : []),
      ...(ready && peerPick?.exhausted
        ? [`better-auth's ${ready.totpUsers.length} TOTP users ran out ${peerPick.exhausted} times`]
        : []),
    ];
    if (exhausted.length > 0)
      console.log(`   warning: ${exhausted.join('; ')} within a 30 s step (those logins were refused as replays)`);
    return {
      scenario: '3. two-factor login (logins/s)',
      twofold: twoFactorLogins,
      ...(measuredPeer ? { peer: perLogin(measuredPeer) } : peerMissing),
      percent: twoFactorPercent,
      target: twoFactorTarget,
      requestsPerOperation: 2,
      met: twoFactorPercent >= 80 && exhausted.length === 0,
      ...(exhausted.length > 0
        ? { note: `${Math.round(twoFactorPercent)}% ${twoFactorTarget}, not comparable: ${exhausted.join('; ')}` }
        : {}),
    };
  });

  const refreshTarget = '≥ 80% of ceiling';
  const refresh = await scenario('4. POST /api/auth/refresh', refreshTarget, async () => {
    console.log('4. refresh: POST /api/auth/refresh, each connection rotating its own chain');
    const chains = await refreshChains(twofold.url, usernames, REFRESH_CHAINS);
    const [twofoldRefresh, refreshCeiling] = (await measureSides(
      [
        { label: 'Twofold', options: refreshOptions(`${twofold.url}/api/auth/refresh`, chains), cpu: cpu.twofold },
        {
          label: 'ceiling',
          options: refreshOptions(`${ceiling.url}/refresh`, [...ceiling.refreshTokens]),
          cpu: cpu.ceiling,
        },
      ],
      seconds,
    )) as [Figures, Figures];
    const refreshPercent = percentOf(twofoldRefresh.requestsPerSecond, refreshCeiling.requestsPerSecond);
    return {
      scenario: '4. POST /api/auth/refresh',
      twofold: twofoldRefresh,
      ceiling: refreshCeiling,
      percent: refreshPercent,
      target: refreshTarget,
      met: refreshPercent >= 80,
      keycloakPerVcpu: KEYCLOAK_PER_VCPU.refreshes,
    };
  });

  const writeTarget = '≥ 70% of ceiling';
  const write = await scenario('5. POST /api/products', writeTarget, async () => {
    console.log('5. write: POST /api/products');
    const [twofoldWrite, writeCeiling] = (await measureSides(
      [
        { label: 'Twofold', options: writeOptions(`${twofold.url}/api/products`, bearer), cpu: cpu.twofold },
        { label: 'ceiling', options: writeOptions(`${ceiling.url}/products`, bearer), cpu: cpu.ceiling },
      ],
      seconds,
    )) as [Figures, Figures];
    const writePercent = percentOf(twofoldWrite.requestsPerSecond, writeCeiling.requestsPerSecond);
    return {
      scenario: '5. POST /api/products',
      twofold: twofoldWrite,
      ceiling: writeCeiling,
      percent: writePercent,
      target: writeTarget,
      met: writePercent >= 70,
    };
  });

  // Run last of the small scenarios (its users are registered through the API, which hashes), shown beside 2 and 3.
  const passkey = await scenario('3b. passkey sign-in (logins/s)', 'beside password logins/s', () =>
    passkeyScenario(twofold.url, relyingParty, login.twofold, seconds, cpu.twofold),
  );

  return { read, readFew, login, twoFactor, refresh, write, passkey };
}

async function runSqlite(machine: Machine, date: Date, seconds: number): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-bench-'));
  const stoppers: Array<() => Promise<void>> = [];
  try {
    for (const line of headerLines(machine, '')) console.log(line);
    console.log(
      `load: autocannon, ${CONNECTIONS} connections, ${seconds} s per run after a warm-up (BENCH_DURATION), one run at a time; compared sides alternate for ${ROUNDS} rounds, best run kept (BENCH_ROUNDS)\n`,
    );

    // 7. Cold start on an empty database (migrations included), then idle memory.
    const fresh = await startTwofold(benchEnv(mkdtempSync(path.join(dataDir, 'fresh-'))));
    const coldStart = { readyMs: fresh.readyMs, idleRssMiB: fresh.rssMiB() };
    await fresh.stop();
    console.log(
      `7. cold start (empty database, migrations applied): ready in ${coldStart.readyMs.toFixed(0)} ms, RSS ${coldStart.idleRssMiB} MiB idle`,
    );

    // The OpenID Connect provider on (a key file, an https issuer), as a deployment that uses it runs.
    const env = { ...benchEnv(dataDir), ...oidcEnv(dataDir) };
    const config = loadConfig(env);
    const seeded = await seedDatabase({
      databaseUrl: env.DATABASE_URL as string,
      encryptionKey: config.encryptionKey,
      argon2: config.argon2,
      users: positiveInt('BENCH_USERS', 1000),
      totpUsers: positiveInt('BENCH_TOTP_USERS', 4000),
      products: positiveInt('BENCH_PRODUCTS', 1000),
    });
    console.log(
      `seeded ${seeded.usernames.length} users, ${seeded.totpUsers.length} TOTP users, ${positiveInt('BENCH_PRODUCTS', 1000)} products in ${seeded.seconds.toFixed(1)} s`,
    );

    const twofold = await startTwofold(env);
    stoppers.push(() => twofold.stop());
    const seededStart = { readyMs: twofold.readyMs, idleRssMiB: twofold.rssMiB() };
    console.log(
      `   cold start (seeded database): ready in ${seededStart.readyMs.toFixed(0)} ms, RSS ${seededStart.idleRssMiB} MiB idle`,
    );
    const ceiling = await forkChild<CeilingReady>(
      path.join(HERE, 'ceiling-server.ts'),
      { ...env, BENCH_REFRESH_CHAINS: String(REFRESH_CHAINS) },
      { nodeFlags: SERVE_NODE_FLAGS },
    );
    stoppers.push(() => ceiling.stop());
    const started = await startPeer(dataDir);
    const peerUp = 'ready' in started ? started : undefined;
    if (peerUp) stoppers.push(() => peerUp.stop());
    const peer = 'ready' in started ? started.ready : started;
    watchServers([twofold.pid, ceiling.pid, ...(peerUp ? [peerUp.pid] : [])]);
    const argon2 = describeArgon2(config.argon2);
    const hashes = await compareWithKeycloak(config.argon2);
    // better-auth's default: node:crypto scrypt N=16384 r=16 p=1, 64-byte key (@better-auth/utils/password).
    // Timed only beside a peer that runs: the figure describes that peer.
    const peerHashMs = peerUp
      ? await hashMs(
          () =>
            new Promise((resolve, reject) =>
              scrypt(
                BENCH_PASSWORD,
                'saltsaltsaltsalt',
                64,
                { N: 16384, r: 16, p: 1, maxmem: 128 * 16384 * 16 * 2 },
                (e, k) => (e ? reject(e) : resolve(k)),
              ),
            ),
          11,
        )
      : undefined;
    const hashCost = { ...hashes, ...(peerHashMs === undefined ? {} : { peerMs: peerHashMs }) };
    const peerMs = peerHashMs === undefined ? '–' : `${peerHashMs.toFixed(1)} ms`;
    console.log(
      peer.type === 'missing'
        ? `better-auth: – (${peer.reason}); the run goes on without it`
        : `better-auth ${peer.version} at ${peer.url}: ${peer.passwordHash}`,
    );
    console.log(
      `one hash on one thread: Twofold ${argon2} ${hashCost.twofoldMs.toFixed(1)} ms; Keycloak's default ${hashCost.keycloakDefaultMs.toFixed(1)} ms; better-auth scrypt ${peerMs}`,
    );
    console.log(
      `servers: Twofold ${twofold.url} (pid ${twofold.pid}, ${env.DATABASE_URL}), ceiling ${ceiling.ready.url}; password hashing ${argon2}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}\n`,
    );

    const totpUsers = [...seeded.totpUsers];
    const topUpTotpUsers = async (count: number): Promise<void> => {
      const added = await addTotpUsers({
        databaseUrl: env.DATABASE_URL as string,
        encryptionKey: config.encryptionKey,
        argon2: config.argon2,
        from: totpUsers.length,
        count,
      });
      totpUsers.push(...added);
    };
    const small = await runScenarios({
      twofold,
      ceiling: ceiling.ready,
      peer,
      cpu: {
        twofold: { service: [twofold.pid] },
        ceiling: { service: [ceiling.pid] },
        peer: peerUp ? { service: [peerUp.pid] } : undefined,
      },
      usernames: seeded.usernames,
      totpUsers,
      topUpTotpUsers,
      seconds,
      // The relying party as the server computed it: its PUBLIC_URL defaults to its own port.
      relyingParty: loadConfig({ ...env, PORT: new URL(twofold.url).port }).webauthn,
    });
    // Read before the OpenID Connect scenarios: the figure the target has always been about (1-5).
    const afterLoadRssMiB = twofold.rssMiB();
    // The provider's token endpoint, shown beside the refresh (4b, 4c); its rows do not weigh on 1-5.
    const oidc = {
      url: twofold.url,
      pid: twofold.pid,
      env,
      usernames: seeded.usernames,
      seconds,
      cores: machine.cores,
    };
    const refresh = small.refresh.twofold;
    const clientCredentials = await scenario('4b. POST /oidc/token client_credentials', 'beside refresh/s', () =>
      clientCredentialsScenario({ ...oidc, refresh }),
    );
    const codeExchange = await scenario('4c. POST /oidc/token authorization_code (PKCE)', 'beside refresh/s', () =>
      codeExchangeScenario({ ...oidc, refresh }),
    );
    const afterOidcRssMiB = twofold.rssMiB();
    const results = [
      small.read,
      small.readFew,
      small.login,
      small.twoFactor,
      small.passkey,
      small.refresh,
      clientCredentials,
      codeExchange,
      small.write,
    ];
    const scaleRows = Number(process.env.BENCH_SCALE_ROWS ?? 1_000_000);
    let scale: { seedSeconds: number; readyMs: number } | undefined;
    if (scaleRows > 0) {
      // The ceiling and the peer have done their part: only the two Twofold servers run from here.
      await ceiling.stop();
      await peerUp?.stop();
      const scaled = await runScale({
        small: twofold,
        smallUsernames: seeded.usernames,
        rows: scaleRows,
        seconds,
        dataDir,
      });
      results.push(...scaled.results);
      scale = { seedSeconds: scaled.seedSeconds, readyMs: scaled.readyMs };
    }

    console.log(
      `\n${machine.cpu} (${machine.cores} cores), Node ${machine.node}, SQLite, ${argon2}, ${CONNECTIONS} connections, ${seconds} s per run, ${machine.date.slice(0, 10)}\n`,
    );
    console.log(markdownTable(results));
    console.log('');
    console.log(
      `| 7. cold start to /readyz = 200 | empty database: ${coldStart.readyMs.toFixed(0)} ms | seeded database: ${seededStart.readyMs.toFixed(0)} ms | target < 1500 ms: ${Math.max(coldStart.readyMs, seededStart.readyMs) < 1500 ? 'meets' : 'BELOW'} |`,
    );
    console.log(
      `| resident memory (RSS) | idle ${seededStart.idleRssMiB} MiB | after the load (1-5) ${afterLoadRssMiB} MiB, after 4b and 4c ${afterOidcRssMiB} MiB | target < 150 MiB after 1-5: ${afterLoadRssMiB < 150 ? 'meets' : 'BELOW'} |`,
    );
    // Logins per second × seconds per hash = how many threads' worth of hashing each service keeps busy:
    // the same figure for both means the difference in logins/s is only the hash, not the service.
    const busy = (rps: number, ms: number): string => ((rps * ms) / 1000).toFixed(2);
    const peerHashing =
      peer.type === 'missing'
        ? `better-auth: – (${peer.reason})`
        : `better-auth ${peer.passwordHash}: ${peerMs} per hash, ${peerHashMs === undefined ? '–' : busy(small.login.peer?.requestsPerSecond ?? 0, peerHashMs)} hash-seconds per second`;
    console.log(
      `| password hashing | Twofold ${argon2}: ${hashCost.twofoldMs.toFixed(1)} ms per hash, ${busy(small.login.twofold.requestsPerSecond, hashCost.twofoldMs)} hash-seconds per second | ` +
        `${peerHashing} | (${machine.cores} cores) |`,
    );
    console.log(hashingLine(config.argon2, hashes));
    console.log(`\ncost per operation (CPU time read from /proc around each measured run; ${KEYCLOAK_NOTE})\n`);
    console.log(costTable(results));
    for (const note of failureNotes(results)) console.log(note);
    const file = writeResults(path.join(HERE, 'results'), date, {
      machine,
      database: { dialect: 'sqlite' },
      connections: CONNECTIONS,
      durationSeconds: seconds,
      rounds: ROUNDS,
      argon2: config.argon2,
      hashCost,
      peer:
        peer.type === 'missing' ? { missing: peer.reason } : { version: peer.version, passwordHash: peer.passwordHash },
      results,
      coldStart,
      seededStart,
      afterLoadRssMiB,
      afterOidcRssMiB,
      scale,
      references: { keycloakPerVcpu: KEYCLOAK_PER_VCPU, keycloakArgon2: KEYCLOAK_ARGON2 },
    });
    console.log(`\nfigures written to ${path.relative(process.cwd(), file)}`);
  } finally {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const options = parseBenchArgs(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const seconds = positiveInt('BENCH_DURATION', 10);
  const date = new Date();
  const machine = describeMachine(date);
  build();
  if (options.soak) await runSoak(machine, date);
  else if (options.db !== 'sqlite') await runServerDatabase(options.db, machine, date, seconds);
  else await runSqlite(machine, date, seconds);
  const total = Math.round((performance.now() - started) / 1000);
  console.log(`whole run: ${Math.floor(total / 60)} min ${total % 60} s`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
