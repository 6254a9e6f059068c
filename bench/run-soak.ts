/**
 * `npm run bench -- --soak`: the read scenario (GET /api/products?limit=20, 50 connections) for
 * BENCH_SOAK_SECONDS (300) without a break on a fresh seeded SQLite Twofold, with its resident
 * memory read every 30 s. Verdict "no growth" when the RSS at the end (under load) is at most 10%
 * above the RSS after the first minute (after half the soak when it is shorter than two minutes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config.js';
import { positiveInt } from './options.js';
import { ROOT, startTwofold, type RunningServer } from './processes.js';
import { figuresOf, headerLines, num, writeResults, type Figures, type Machine } from './report.js';
import { CONNECTIONS, readOptions } from './scenarios.js';
import { seedDatabase } from './seed.js';
import { bearerFor, benchEnv } from './setup.js';

const WARM_UP_SECONDS = 10;
const SAMPLE_EVERY_SECONDS = 30;
/** End RSS above the reference by more than this fraction counts as growth. */
const GROWTH_TOLERANCE = 0.1;

interface Sample {
  second: number;
  rssMiB: number;
  /** Responses per second since the previous sample. */
  requestsPerSecond: number;
}

/** Runs autocannon for `seconds`, calling `sample(second, responsesSoFar)` at each of `atSeconds`. */
async function loadWithSamples(
  options: autocannon.Options,
  seconds: number,
  atSeconds: number[],
  sample: (second: number, responses: number) => void,
): Promise<{ result: autocannon.Result; responses: number }> {
  let responses = 0;
  const timers = atSeconds.map((second) => setTimeout(() => sample(second, responses), second * 1000));
  try {
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon({ ...options, duration: seconds }, (error: unknown, result) =>
        error ? reject(error as Error) : resolve(result),
      );
      instance.on('response', () => {
        responses += 1;
      });
    });
    return { result, responses };
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

/**
 * When to read RSS: every 30 s, at the reference point (60 s, or half a soak shorter than two
 * minutes) and at the end, under load: one second before the load stops.
 */
function soakSchedule(seconds: number): { referenceSecond: number; endSecond: number; atSeconds: number[] } {
  const referenceSecond = Math.max(1, Math.min(60, Math.floor(seconds / 2)));
  const endSecond = Math.max(1, seconds - 1);
  const every = Array.from(
    { length: Math.ceil(endSecond / SAMPLE_EVERY_SECONDS) },
    (_, i) => (i + 1) * SAMPLE_EVERY_SECONDS,
  );
  const atSeconds = [...new Set([referenceSecond, endSecond, ...every])]
    .filter((s) => s <= endSecond)
    .sort((a, b) => a - b);
  return { referenceSecond, endSecond, atSeconds };
}

function printSoakTable(
  figures: Figures,
  seconds: number,
  rss: { start: number; reference: Sample; end: Sample },
  rule: string,
  verdict: string,
): void {
  const growth = (rss.end.rssMiB - rss.reference.rssMiB) / rss.reference.rssMiB;
  console.log(
    `| soak: GET /api/products?limit=20 | req/s | p50 ms | p99 ms | RSS at start | RSS at ${rss.reference.second} s | RSS at the end (${rss.end.second} s) | verdict (${rule}) |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  console.log(
    `| ${CONNECTIONS} connections, ${seconds} s | ${num(figures.requestsPerSecond)} | ${num(figures.p50Ms)} | ${num(figures.p99Ms)} | ${rss.start} MiB | ${rss.reference.rssMiB} MiB | ${rss.end.rssMiB} MiB | ` +
      `${verdict} (${growth >= 0 ? '+' : ''}${(100 * growth).toFixed(1)}%) |`,
  );
  if (figures.non2xx || figures.errors)
    console.log(
      `warning: ${figures.non2xx} non-2xx responses and ${figures.errors} connection errors out of ${figures.requests} requests`,
    );
}

export async function runSoak(machine: Machine, date: Date): Promise<void> {
  const seconds = positiveInt('BENCH_SOAK_SECONDS', 300);
  const { referenceSecond, endSecond, atSeconds } = soakSchedule(seconds);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-bench-'));
  let twofold: RunningServer | undefined;
  try {
    for (const line of headerLines(machine, 'soak')) console.log(line);
    const env = benchEnv(dataDir);
    const config = loadConfig(env);
    const seeded = await seedDatabase({
      databaseUrl: env.DATABASE_URL as string,
      encryptionKey: config.encryptionKey,
      argon2: config.argon2,
      users: positiveInt('BENCH_USERS', 1000),
      totpUsers: 0,
      products: positiveInt('BENCH_PRODUCTS', 1000),
    });
    twofold = await startTwofold(env);
    const server = twofold;
    const options = readOptions(
      `${server.url}/api/products?limit=20`,
      await bearerFor(server.url, seeded.usernames[0] as string),
    );
    console.log(
      `soak: GET /api/products?limit=20, ${CONNECTIONS} connections, ${seconds} s (BENCH_SOAK_SECONDS) on ${server.url} (pid ${server.pid}, fresh seeded SQLite)`,
    );
    await autocannon({ ...options, duration: WARM_UP_SECONDS });
    const startRssMiB = server.rssMiB();
    console.log(`     0 s   RSS ${startRssMiB} MiB   (after a ${WARM_UP_SECONDS} s warm-up)`);

    const samples: Sample[] = [];
    let previous = { second: 0, responses: 0 };
    const sample = (second: number, responses: number): void => {
      const entry = {
        second,
        rssMiB: server.rssMiB(),
        requestsPerSecond: (responses - previous.responses) / Math.max(1, second - previous.second),
      };
      previous = { second, responses };
      samples.push(entry);
      console.log(
        `  ${String(second).padStart(4)} s   RSS ${entry.rssMiB} MiB   ${entry.requestsPerSecond.toFixed(0)} req/s since the last sample${second === endSecond ? '   (end)' : ''}`,
      );
    };
    const { result, responses } = await loadWithSamples(options, seconds, atSeconds, sample);
    // A soak too short for its timers (a second or two) still gets its end sample.
    if (samples.length === 0) sample(seconds, responses);
    const figures = figuresOf(result);
    const afterLoadRssMiB = server.rssMiB();
    console.log(`  after the load: RSS ${afterLoadRssMiB} MiB`);

    const end = samples[samples.length - 1] as Sample;
    const reference = samples.find((s) => s.second === referenceSecond) ?? (samples[0] as Sample);
    const rule = `end ≤ ${100 + 100 * GROWTH_TOLERANCE}% of the RSS at ${reference.second} s`;
    const verdict = end.rssMiB <= reference.rssMiB * (1 + GROWTH_TOLERANCE) ? 'no growth' : 'GROWTH';
    console.log(
      `\n${machine.cpu} (${machine.cores} cores), Node ${machine.node}, SQLite, ${CONNECTIONS} connections, ${seconds} s, ${machine.date.slice(0, 10)}\n`,
    );
    printSoakTable(figures, seconds, { start: startRssMiB, reference, end }, rule, verdict);
    const file = writeResults(
      path.join(ROOT, 'bench/results'),
      date,
      {
        machine,
        database: { dialect: 'sqlite' },
        connections: CONNECTIONS,
        soakSeconds: seconds,
        warmUpSeconds: WARM_UP_SECONDS,
        figures,
        startRssMiB,
        samples,
        referenceSecond,
        afterLoadRssMiB,
        rule,
        verdict,
      },
      'soak',
    );
    console.log(`\nfigures written to ${path.relative(process.cwd(), file)}`);
  } finally {
    await twofold?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
