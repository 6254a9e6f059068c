/**
 * `npm run bench`: Twofold against a bare-Fastify ceiling, one scenario at a time.
 * BENCH_DURATION=seconds per measured run (default 10; 3 for a quick check);
 * BENCH_USERS (100) and BENCH_PRODUCTS (1000) size the seeded database.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { compare, describeMachine, failureNotes, figuresOf, markdownTable, writeResults, type Figures, type ScenarioResult } from './report.js';
import type { ReadyMessage, ServerMessage } from './server.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONNECTIONS = 50;
const STARTUP_TIMEOUT_MS = 180_000;

interface Scenario {
  name: string;
  targetPercent: number;
  twofold: autocannon.Options;
  ceiling: autocannon.Options;
}

function durationSeconds(): number {
  const seconds = Number(process.env.BENCH_DURATION ?? 10);
  if (!Number.isFinite(seconds) || seconds < 1) throw new Error(`BENCH_DURATION must be a number of seconds >= 1 (got "${process.env.BENCH_DURATION}")`);
  return seconds;
}

function startServers(dataDir: string): ChildProcess {
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: `sqlite:${path.join(dataDir, 'twofold.db')}`,
    TWOFOLD_DATA_DIR: dataDir,
    JWT_ALG: 'HS256',
    JWT_SECRET: randomBytes(48).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // Long enough that the token minted while seeding outlives any run.
    ACCESS_TOKEN_TTL: '12h',
    LOG_LEVEL: 'warn',
    // All load comes from one address (127.0.0.1): the per-IP limits would measure the limiter.
    RATE_LIMIT_LOGIN: '1000000',
    RATE_LIMIT_REGISTER: '1000000',
    RATE_LIMIT_RECOVERY: '1000000',
  };
  return fork(path.join(HERE, 'server.ts'), [], { env, execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function waitForReady(child: ChildProcess): Promise<ReadyMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the servers were not ready within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
    child.once('message', (message: ServerMessage) => {
      clearTimeout(timer);
      if (message.type === 'ready') resolve(message);
      else reject(new Error(`the server process failed to start:\n${message.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server process exited early (code ${code}, signal ${signal})`));
    });
  });
}

function buildScenarios(ready: ReadyMessage): Scenario[] {
  const read = { connections: CONNECTIONS, headers: { authorization: `Bearer ${ready.accessToken}` } };
  // Each request signs in the next seeded user, so no row or cache stays hot by accident.
  const login = (url: string): autocannon.Options => {
    let next = 0;
    const setupRequest = (request: autocannon.Request): autocannon.Request => ({
      ...request,
      body: JSON.stringify({ username: ready.usernames[next++ % ready.usernames.length], password: ready.password }),
    });
    return { url, connections: CONNECTIONS, method: 'POST', headers: { 'content-type': 'application/json' }, requests: [{ setupRequest }] };
  };
  return [
    { name: 'GET /api/products?limit=20 (Bearer)', targetPercent: 70, twofold: { url: `${ready.twofoldUrl}/api/products?limit=20`, ...read }, ceiling: { url: `${ready.ceilingUrl}/products?limit=20`, ...read } },
    { name: 'POST /api/auth/login (argon2id)', targetPercent: 80, twofold: login(`${ready.twofoldUrl}/api/auth/login`), ceiling: login(`${ready.ceilingUrl}/login`) },
  ];
}

/** One request to each endpoint before any load, so a broken setup fails loudly instead of measuring 401s. */
async function checkEndpoints(ready: ReadyMessage): Promise<void> {
  const headers = { authorization: `Bearer ${ready.accessToken}` };
  const pages = await Promise.all([`${ready.twofoldUrl}/api/products?limit=20`, `${ready.ceilingUrl}/products?limit=20`].map((url) => getJSON(url, headers)));
  const ids = pages.map((page) => (page as { items: { id: number }[] }).items.map((item) => item.id).join(','));
  if (ids[0] !== ids[1]) throw new Error(`Twofold and the ceiling return different pages: ${ids[0]} vs ${ids[1]}`);
  const body = JSON.stringify({ username: ready.usernames[0], password: ready.password });
  for (const url of [`${ready.twofoldUrl}/api/auth/login`, `${ready.ceilingUrl}/login`]) {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  }
}

async function getJSON(url: string, headers: Record<string, string>): Promise<unknown> {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function measure(label: string, options: autocannon.Options, seconds: number): Promise<Figures> {
  // A short unrecorded warm-up lets V8 optimise the hot path and fills caches on both sides alike.
  await autocannon({ ...options, duration: Math.max(1, Math.round(seconds / 5)) });
  const figures = figuresOf(await autocannon({ ...options, duration: seconds }));
  console.log(`  ${label.padEnd(8)} ${figures.requestsPerSecond.toFixed(1).padStart(9)} req/s   p50 ${figures.p50Ms} ms   p99 ${figures.p99Ms} ms`);
  return figures;
}

async function runAll(child: ChildProcess, seconds: number, date: Date): Promise<void> {
  const machine = describeMachine(date);
  console.log(`Twofold benchmark, ${machine.date}`);
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}`);
  console.log(`load: autocannon, ${CONNECTIONS} connections, ${seconds} s per run (BENCH_DURATION), one run at a time\n`);

  const ready = await waitForReady(child);
  const argon2 = `argon2id m=${ready.argon2.memoryKiB} KiB t=${ready.argon2.iterations} p=${ready.argon2.parallelism}`;
  console.log(`servers: Twofold ${ready.twofoldUrl}, ceiling ${ready.ceilingUrl} (${ready.databaseUrl}, LOG_LEVEL=${ready.logLevel})`);
  console.log(`password hashing: ${argon2}; seeded ${ready.usernames.length} users\n`);
  await checkEndpoints(ready);

  const results: ScenarioResult[] = [];
  for (const scenario of buildScenarios(ready)) {
    console.log(scenario.name);
    const twofold = await measure('Twofold', scenario.twofold, seconds);
    const ceiling = await measure('ceiling', scenario.ceiling, seconds);
    results.push(compare(scenario.name, twofold, ceiling, scenario.targetPercent));
  }

  console.log(`\n${machine.cpu} (${machine.cores} cores), Node ${machine.node}, ${argon2}, ${CONNECTIONS} connections, ${seconds} s per run, ${machine.date.slice(0, 10)}\n`);
  console.log(markdownTable(results));
  for (const note of failureNotes(results)) console.log(note);
  const file = writeResults(path.join(HERE, 'results'), date, { machine, connections: CONNECTIONS, durationSeconds: seconds, argon2: ready.argon2, results });
  console.log(`\nfigures written to ${path.relative(process.cwd(), file)}`);
}

/** Lets the server process close its apps (the parent's IPC channel closing is its signal), then removes the database. */
async function stopServers(child: ChildProcess, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = once(child, 'exit');
    if (child.connected) child.disconnect();
    else child.kill('SIGTERM');
    const timeout = new AbortController();
    await Promise.race([gone, delay(5000, undefined, { signal: timeout.signal }).then(() => child.kill('SIGKILL'))]).catch(() => undefined);
    timeout.abort();
  }
  rmSync(dataDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const seconds = durationSeconds();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-bench-'));
  const child = startServers(dataDir);
  // Whatever happens (error, Ctrl-C), the server process and the database go with us.
  const stopped = (code: number) => (): void => void stopServers(child, dataDir).finally(() => process.exit(code));
  process.once('SIGINT', stopped(130));
  process.once('SIGTERM', stopped(143));
  process.once('exit', () => child.kill('SIGKILL'));
  try {
    await runAll(child, seconds, new Date());
  } finally {
    await stopServers(child, dataDir);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
