/**
 * `npm run bench -- --db postgres|mysql`: scenarios 1 (read), 2 (password login) and 4 (refresh)
 * on a database made for the run on that server (dropped at its end, also on failure or Ctrl-C).
 * Each compares, in alternation: Twofold with Redis (REDIS_URL, as a multi-instance deployment
 * runs), Twofold without Redis, the ceiling on the same database, and two Twofold instances with
 * Redis, half the connections each. Without a reachable Redis the Redis sides are skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type autocannon from 'autocannon';
import { loadConfig } from '../src/config.js';
import type { CeilingReady } from './ceiling-server.js';
import { REFRESH_CHAINS, ROUNDS, measureSides, watchServers, type Side } from './measure.js';
import { positiveInt } from './options.js';
import { ROOT, SERVE_NODE_FLAGS, forkChild, startTwofold, type RunningServer } from './processes.js';
import { benchRedis, type BenchRedis } from './redis-db.js';
import { compareWithKeycloak, describeArgon2, hashingLine } from './hashing.js';
import { KEYCLOAK_NOTE, KEYCLOAK_PER_VCPU } from './keycloak.js';
import { applyPinning, pinningPlan } from './pinning.js';
import { postgresScaleRows, runPostgresScale } from './scale-postgres.js';
import {
  READ_P99_FACTOR,
  costTable,
  failureNotes,
  projectionLines,
  headerLines,
  markdownTable,
  num,
  percentOf,
  writeResults,
  type Figures,
  type Machine,
  type ScenarioResult,
} from './report.js';
import { scenario } from './scenario-row.js';
import { CONNECTIONS, loginOptions, readOptions, refreshOptions } from './scenarios.js';
import { BENCH_PASSWORD, seedDatabase } from './seed.js';
import { benchDatabase, dialectTitle, dropOnSignal, type ServerDialect } from './server-database.js';
import { bearerFor, benchEnv, refreshChains } from './setup.js';

/** Below this, two instances are reported as not (yet) showing growth on this machine. */
const GROWTH = 1.2;
/** Twofold's share of the ceiling each scenario must reach, with Redis. */
const PERCENT_TARGET = 80;
const HALF = CONNECTIONS / 2;

interface Servers {
  /** Twofold without REDIS_URL (a single-instance deployment). */
  plain: RunningServer;
  /** Two instances with REDIS_URL, or none when Redis cannot be used. */
  withRedis: [RunningServer, RunningServer] | undefined;
  ceiling: CeilingReady;
  ceilingPid: number;
  /** The database server whose processes each side's CPU time includes. */
  dialect: ServerDialect;
}

/** One instance's share of a scenario's load, when two instances split it. */
interface Share {
  index: number;
  of: number;
}

/** One comparison: how to load a Twofold instance (all of it, or its share) and the ceiling. */
interface Comparison {
  name: string;
  intro: string;
  target: string;
  /** Keycloak's published operations per second per vCPU for the same kind of operation. */
  keycloakPerVcpu?: number;
  prepare(): Promise<{
    twofold(url: string, share?: Share): Promise<autocannon.Options>;
    ceiling: autocannon.Options;
  }>;
  /** The main row's verdict from Twofold's and the ceiling's figures; `figures` replaces "N%" before the target. */
  verdict(twofold: Figures, ceiling: Figures): { percent: number; met: boolean; figures?: string };
}

/** `a ÷ b` for a note, or a dash when b completed no request (a run can end before its first answer). */
function times(a: Figures, b: Figures): string {
  return b.requestsPerSecond > 0
    ? `×${(a.requestsPerSecond / b.requestsPerSecond).toFixed(2)}`
    : '×– (no request answered)';
}

/** Two instances (half the connections each, figures summed) against one with all of them. */
function twoInstanceRow(scenario: string, two: Figures, one: Figures, cores: number): ScenarioResult {
  const ratio = one.requestsPerSecond > 0 ? two.requestsPerSecond / one.requestsPerSecond : 0;
  const shared =
    ratio < GROWTH
      ? `; under ×${GROWTH}: the load generator, both instances, Redis and the database share this machine's ${cores} cores`
      : '';
  return {
    scenario,
    twofold: two,
    baseline: one,
    target: `throughput grows with instances (×${GROWTH} or more)`,
    percent: 100 * ratio,
    met: ratio >= GROWTH,
    note: `two instances ÷ one instance (both with Redis): ${times(two, one)} (one instance: ${num(one.requestsPerSecond)} req/s, p99 ${num(one.p99Ms)} ms)${shared}`,
  };
}

/** Twofold without Redis beside the main row: reported, not a target. */
function withoutRedisRow(name: string, plain: Figures, ceiling: Figures, withRedis: Figures): ScenarioResult {
  const percent = percentOf(plain.requestsPerSecond, ceiling.requestsPerSecond);
  return {
    scenario: `${name}, without Redis`,
    twofold: plain,
    ceiling,
    percent,
    target: 'reported beside the row above',
    note: `${Math.round(percent)}% of ceiling without Redis; with Redis ÷ without: ${times(withRedis, plain)}`,
  };
}

/**
 * Runs one comparison's sides in alternation and makes its rows: the main one (Twofold with Redis
 * against the ceiling; without Redis when Redis cannot be used), then without Redis and two
 * instances. A comparison that fails becomes one row saying why; the run goes on.
 */
async function compare(comparison: Comparison, servers: Servers, seconds: number, cores: number) {
  const rows: ScenarioResult[] = [];
  const { name, target } = comparison;
  const mainName = servers.withRedis ? `${name}, with Redis` : `${name}, without Redis (Redis unreachable)`;
  const main = await scenario(mainName, target, async () => {
    console.log(comparison.intro);
    const load = await comparison.prepare();
    const sides: Side[] = [];
    const redis = servers.withRedis;
    const database = servers.dialect;
    // Each side is charged its own process(es) and every process of the database server (and Redis's when it uses it).
    if (redis)
      sides.push({
        label: 'with Redis',
        options: await load.twofold(redis[0].url),
        cpu: { service: [redis[0].pid], database, redis: true },
      });
    sides.push({
      label: 'no Redis',
      options: await load.twofold(servers.plain.url),
      cpu: { service: [servers.plain.pid], database },
    });
    sides.push({ label: 'ceiling', options: load.ceiling, cpu: { service: [servers.ceilingPid], database } });
    if (redis) {
      const halves = redis.map(async (s, index) => ({
        ...(await load.twofold(s.url, { index, of: redis.length })),
        connections: HALF,
      }));
      sides.push({
        label: '2 instances',
        options: await Promise.all(halves),
        cpu: { service: redis.map((s) => s.pid), database, redis: true },
      });
    }
    const figures = await measureSides(sides, seconds);
    const of = (label: string): Figures => figures[sides.findIndex((s) => s.label === label)] as Figures;
    const twofold = of(redis ? 'with Redis' : 'no Redis');
    const ceiling = of('ceiling');
    if (redis) {
      rows.push(withoutRedisRow(name, of('no Redis'), ceiling, twofold));
      rows.push(twoInstanceRow(`${name}, two instances (2 × ${HALF} connections)`, of('2 instances'), twofold, cores));
    }
    const { percent, met: reached, figures: shown } = comparison.verdict(twofold, ceiling);
    // Failed requests answer fast: a side with any is no figure to meet a target with (failureNotes says which).
    const met = reached && answeredAll(twofold) && answeredAll(ceiling);
    const note = shown === undefined ? undefined : `${shown}; ${target}: ${met ? 'meets' : 'BELOW'}`;
    const keycloak = comparison.keycloakPerVcpu === undefined ? {} : { keycloakPerVcpu: comparison.keycloakPerVcpu };
    return { scenario: mainName, twofold, ceiling, target, percent, met, ...keycloak, ...(note ? { note } : {}) };
  });
  return [main, ...rows];
}

/** Every request of the run answered 2xx, and at least one did. */
function answeredAll(figures: Figures): boolean {
  return figures.requests > 0 && figures.non2xx === 0 && figures.errors === 0;
}

function percentVerdict(twofold: Figures, ceiling: Figures): { percent: number; met: boolean } {
  const percent = percentOf(twofold.requestsPerSecond, ceiling.requestsPerSecond);
  return { percent, met: percent >= PERCENT_TARGET };
}

function comparisons(servers: Servers, usernames: string[]): Comparison[] {
  const { plain, ceiling } = servers;
  const twoInstances = servers.withRedis ? `, two instances (${HALF} connections each)` : '';
  const readTarget = `≥ ${PERCENT_TARGET}% of ceiling, p99 ≤ ${READ_P99_FACTOR}× the ceiling's p99`;
  const read: Comparison = {
    name: '1. GET /api/products?limit=20',
    intro: `1. protected read: GET /api/products?limit=20 with a Bearer token; ${servers.withRedis ? 'with Redis, without' : 'Twofold without Redis'}, the ceiling${twoInstances}`,
    target: readTarget,
    async prepare() {
      const bearer = await bearerFor(plain.url, usernames[0] as string);
      return {
        twofold: async (url) => readOptions(`${url}/api/products?limit=20`, bearer),
        ceiling: readOptions(`${ceiling.url}/products?limit=20`, bearer),
      };
    },
    verdict(twofold, ceilingFigures) {
      const { percent, met } = percentVerdict(twofold, ceilingFigures);
      const p99Ratio = twofold.p99Ms / Math.max(ceilingFigures.p99Ms, 0.001);
      const p99Met = p99Ratio <= READ_P99_FACTOR;
      return {
        percent,
        met: met && p99Met,
        figures: `${Math.round(percent)}% of ceiling, p99 ${num(twofold.p99Ms)} ms vs the ceiling's ${num(ceilingFigures.p99Ms)} ms (×${p99Ratio.toFixed(2)})`,
      };
    },
  };
  const login: Comparison = {
    name: '2. POST /api/auth/login',
    intro: `2. password login: POST /api/auth/login over ${usernames.length} users${servers.withRedis ? '; two instances sign in alternate users' : ''}`,
    target: `≥ ${PERCENT_TARGET}% of ceiling (raw argon2id)`,
    keycloakPerVcpu: KEYCLOAK_PER_VCPU.passwordLogins,
    async prepare() {
      return {
        twofold: async (url, share) =>
          loginOptions(
            `${url}/api/auth/login`,
            share ? usernames.filter((_, i) => i % share.of === share.index) : usernames,
            BENCH_PASSWORD,
          ),
        ceiling: loginOptions(`${ceiling.url}/login`, usernames, BENCH_PASSWORD),
      };
    },
    verdict: percentVerdict,
  };
  const refresh: Comparison = {
    name: '4. POST /api/auth/refresh',
    intro: `4. refresh: POST /api/auth/refresh, each connection rotating its own chain (chains of their own for each side and instance)`,
    target: `≥ ${PERCENT_TARGET}% of ceiling`,
    keycloakPerVcpu: KEYCLOAK_PER_VCPU.refreshes,
    async prepare() {
      return {
        // Any instance accepts a chain (one database, one key); a chain is spent as it rotates, so
        // every side, and each instance of the two, gets chains of its own, made before any load.
        twofold: async (url, share) =>
          refreshOptions(
            `${url}/api/auth/refresh`,
            await refreshChains(plain.url, usernames, share ? Math.ceil(REFRESH_CHAINS / share.of) : REFRESH_CHAINS),
          ),
        ceiling: refreshOptions(`${ceiling.url}/refresh`, [...ceiling.refreshTokens]),
      };
    },
    verdict: percentVerdict,
  };
  return [read, login, refresh];
}

/** The two instances with REDIS_URL, or the reason they are not run. */
async function startRedisInstances(
  redis: BenchRedis,
  env: Record<string, string>,
  stoppers: Array<() => Promise<void>>,
): Promise<{ servers: [RunningServer, RunningServer]; version: string } | { skipped: string }> {
  const checked = await redis.check();
  if ('unreachable' in checked)
    return { skipped: `Redis at ${redis.displayUrl} is not reachable (${checked.unreachable})` };
  try {
    const redisEnv = { ...env, REDIS_URL: redis.url };
    const first = await startTwofold(redisEnv);
    stoppers.push(() => first.stop());
    const second = await startTwofold(redisEnv);
    stoppers.push(() => second.stop());
    return { servers: [first, second], version: checked.version };
  } catch (error) {
    return { skipped: `Twofold with Redis did not start (${error instanceof Error ? error.message : String(error)})` };
  }
}

export async function runServerDatabase(
  dialect: ServerDialect,
  machine: Machine,
  date: Date,
  seconds: number,
): Promise<void> {
  const title = dialectTitle(dialect);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-bench-'));
  const database = benchDatabase(dialect);
  const redis = benchRedis();
  // Installed before the database exists: an interrupt at any point leaves nothing behind.
  const unguard = dropOnSignal(database, () => redis.flush());
  const stoppers: Array<() => Promise<void>> = [];
  try {
    for (const line of headerLines(machine, title)) console.log(line);
    console.log(
      `load: autocannon, ${CONNECTIONS} connections, ${seconds} s per run after a warm-up (BENCH_DURATION); compared sides alternate for ${ROUNDS} rounds, best run kept (BENCH_ROUNDS)`,
    );
    const serverVersion = await database.create();
    console.log(
      `database: ${database.displayUrl} (${title} ${serverVersion}), made for this run and dropped at its end`,
    );
    console.log(
      `better-auth peer: skipped with --db ${dialect} (it runs on its own SQLite file); the default run compares it\n`,
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
    // The instances share the JWT key (any instance accepts any token) and the database.
    const plain = await startTwofold(env);
    stoppers.push(() => plain.stop());
    const started = await startRedisInstances(redis, env, stoppers);
    const withRedis = 'servers' in started ? started.servers : undefined;
    const redisInfo =
      'servers' in started
        ? { url: redis.displayUrl, version: started.version }
        : { url: redis.displayUrl, skipped: started.skipped };
    console.log(
      'servers' in started
        ? `Redis ${started.version} at ${redis.displayUrl} (flushed at the start and end of the run)`
        : `${started.skipped}: the run goes on without the Redis sides (with Redis, two instances)`,
    );
    const ceiling = await forkChild<CeilingReady>(
      path.join(ROOT, 'bench/ceiling-server.ts'),
      { ...env, BENCH_REFRESH_CHAINS: String(REFRESH_CHAINS) },
      { nodeFlags: SERVE_NODE_FLAGS },
    );
    stoppers.push(() => ceiling.stop());
    const twofolds = [...(withRedis ?? []), plain];
    watchServers([...twofolds.map((s) => s.pid), ceiling.pid]);
    const labels = [...(withRedis ? ['with Redis 1', 'with Redis 2'] : []), 'without Redis'];
    const instances = { labels, readyMs: twofolds.map((s) => s.readyMs), idleRssMiB: twofolds.map((s) => s.rssMiB()) };
    console.log(
      `servers: ${twofolds.map((s, i) => `Twofold ${labels[i]} ${s.url} (ready in ${s.readyMs.toFixed(0)} ms)`).join(', ')}, ceiling ${ceiling.ready.url}\n`,
    );

    const pinned = applyPinning(
      pinningPlan(machine.cores),
      {
        first: [plain.pid, ceiling.pid, ...(withRedis ? [withRedis[0].pid] : [])],
        second: withRedis ? [withRedis[1].pid] : [],
        database: dialect,
      },
      machine.cores,
    );
    stoppers.push(async () => pinned.restore());
    console.log(`placement: ${pinned.applied}\n`);
    const hashes = await compareWithKeycloak(config.argon2);

    const servers: Servers = { plain, withRedis, ceiling: ceiling.ready, ceilingPid: ceiling.pid, dialect };
    const results: ScenarioResult[] = [];
    for (const comparison of comparisons(servers, seeded.usernames))
      results.push(...(await compare(comparison, servers, seconds, machine.cores)));
    const afterLoadRssMiB = twofolds.map((s) => s.rssMiB());

    // 6. Scale (PostgreSQL): only the instance without Redis keeps running beside the big database's.
    const scaleRows = dialect === 'postgres' ? postgresScaleRows() : 0;
    let scale: { rows: number; seedSeconds: number; readyMs: number; databaseBytes: number } | undefined;
    if (scaleRows > 0) {
      await ceiling.stop();
      for (const instance of withRedis ?? []) await instance.stop();
      const count = scaleRows.toLocaleString('en-US');
      const target = "p99 ≤ 125% of the small database's";
      try {
        const outcome = await runPostgresScale({
          small: plain,
          smallUsernames: seeded.usernames,
          rows: scaleRows,
          seconds,
          env,
        });
        results.push(...outcome.results);
        scale = {
          rows: scaleRows,
          seedSeconds: outcome.seedSeconds,
          readyMs: outcome.readyMs,
          databaseBytes: outcome.databaseBytes,
        };
      } catch (error) {
        // Minutes of figures are already measured: the scale step becomes a row saying why.
        results.push(await scenario(`6. read and login, ${count} rows`, target, () => Promise.reject(error as Error)));
      }
    }

    const argon2 = describeArgon2(config.argon2);
    console.log(
      `\n${machine.cpu} (${machine.cores} cores), Node ${machine.node}, ${title} ${serverVersion} on ${new URL(database.url).host}, ${'servers' in started ? `Redis ${started.version}` : 'no Redis'}, ${argon2}, ${CONNECTIONS} connections, ${seconds} s per run, ${machine.date.slice(0, 10)}\n`,
    );
    console.log(markdownTable(results));
    console.log('');
    console.log(
      `| resident memory (RSS), Twofold ${labels.join(', ')} | idle ${instances.idleRssMiB.join(', ')} MiB | after the load ${afterLoadRssMiB.join(', ')} MiB |`,
    );
    console.log(`| better-auth | skipped with --db ${dialect} | | |`);
    console.log(hashingLine(config.argon2, hashes));
    console.log(`\ncost per operation (CPU time read from /proc around each measured run; ${KEYCLOAK_NOTE})\n`);
    console.log(costTable(results));
    console.log(`\nwhat the per-core cost predicts (${pinned.applied})\n`);
    console.log('| scenario | measured | predicted, Twofold and its database on |');
    console.log('|---|---:|---|');
    for (const line of projectionLines(results, [4, 8, 16])) console.log(line);
    for (const note of failureNotes(results)) console.log(note);
    const file = writeResults(
      path.join(ROOT, 'bench/results'),
      date,
      {
        machine,
        database: { dialect, name: database.name, url: database.displayUrl, serverVersion },
        redis: redisInfo,
        connections: CONNECTIONS,
        durationSeconds: seconds,
        rounds: ROUNDS,
        argon2: config.argon2,
        peer: `skipped with --db ${dialect}`,
        hashCost: hashes,
        placement: pinned.applied,
        scale,
        results,
        instances: { ...instances, afterLoadRssMiB },
      },
      dialect,
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
    // Nothing to empty when Redis was never reachable.
    await redis.flush().catch(() => undefined);
    unguard();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
