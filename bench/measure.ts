import autocannon from 'autocannon';
import { addCpu, cpuSecondsPerThousand, cpuSince, cpuSnapshot, type CpuUse, type CpuWatch } from './cpu.js';
import { positiveInt } from './options.js';
import { waitIdle } from './processes.js';
import { figuresOf, type Figures } from './report.js';
import { CONNECTIONS } from './scenarios.js';

export const ROUNDS = positiveInt('BENCH_ROUNDS', 2);
/** Each run that ends cuts the chains of the requests in flight (their answers are never read): 50 per run. */
export const REFRESH_CHAINS = CONNECTIONS * (ROUNDS + 2);

/** The processes under test, waited on until idle around every run. */
const serverPids: number[] = [];

/** Sets the processes every measurement waits on (every server that is up, loaded or not). */
export function watchServers(pids: number[]): void {
  serverPids.splice(0, serverPids.length, ...pids);
}

export interface Side {
  label: string;
  /**
   * One autocannon run, or several run at once in this process (connections spread over server
   * instances), whose figures are summed: req/s added, p50 and p99 the worst of them.
   */
  options: autocannon.Options | autocannon.Options[];
  /** Already warmed up by an earlier comparison on the same server: no second warm-up run. */
  warm?: boolean;
  /** The processes whose CPU time each measured run of this side is charged (cpu.ts). */
  cpu?: CpuWatch | undefined;
}

export function sumFigures(parts: Figures[]): Figures {
  const total = (pick: (f: Figures) => number): number => parts.reduce((sum, f) => sum + pick(f), 0);
  return {
    requestsPerSecond: total((f) => f.requestsPerSecond),
    p50Ms: Math.max(...parts.map((f) => f.p50Ms)),
    p99Ms: Math.max(...parts.map((f) => f.p99Ms)),
    requests: total((f) => f.requests),
    non2xx: total((f) => f.non2xx),
    errors: total((f) => f.errors),
    cpu: addCpu(parts.map((f) => f.cpu)),
  };
}

async function runSide(options: Side['options'], seconds: number, watch?: CpuWatch): Promise<Figures> {
  const list = Array.isArray(options) ? options : [options];
  const before = watch ? cpuSnapshot(watch) : undefined;
  const results = await Promise.all(list.map((o) => autocannon({ ...o, duration: seconds })));
  const cpu: CpuUse | undefined = watch && before ? cpuSince(before, cpuSnapshot(watch)) : undefined;
  return { ...sumFigures(results.map(figuresOf)), ...(cpu ? { cpu } : {}) };
}

function logRun(label: string, figures: Figures, round: number, rounds: number): void {
  const cpu = figures.cpu
    ? `   CPU ${cpuSecondsPerThousand(figures.cpu, figures.requests).toFixed(2)} s/1,000 requests${figures.cpu.databaseSeconds > 0 ? ` (database ${((1000 * figures.cpu.databaseSeconds) / Math.max(1, figures.requests)).toFixed(2)})` : ''}`
    : '';
  console.log(
    `  ${label.padEnd(12)} ${figures.requestsPerSecond.toFixed(1).padStart(9)} req/s   p50 ${figures.p50Ms} ms   p99 ${figures.p99Ms} ms${cpu}` +
      `${rounds > 1 ? `   (round ${round})` : ''}${figures.non2xx ? `   (${figures.non2xx} non-2xx)` : ''}`,
  );
}

/**
 * Runs the sides of one comparison in alternation, ROUNDS times, and keeps each side's best run:
 * a neighbour's burst of load on a shared machine then costs a round, not the comparison. "Best"
 * is the highest req/s, or the lowest p99 when the comparison is about latency (`keep = 'p99'`,
 * the scale scenario): the same rule for every side.
 */
export async function measureSides(
  sides: Side[],
  seconds: number,
  rounds = ROUNDS,
  keep: 'throughput' | 'p99' = 'throughput',
): Promise<Figures[]> {
  const better = (a: Figures, b: Figures): boolean =>
    keep === 'p99' ? a.p99Ms < b.p99Ms : a.requestsPerSecond > b.requestsPerSecond;
  const best: Array<Figures | undefined> = sides.map(() => undefined);
  for (const side of sides) if (!side.warm) await runSide(side.options, Math.max(1, Math.round(seconds / 5)));
  await waitIdle(serverPids);
  for (let round = 1; round <= rounds; round++) {
    for (const [i, side] of sides.entries()) {
      const figures = await runSide(side.options, seconds, side.cpu);
      await waitIdle(serverPids);
      logRun(side.label, figures, round, rounds);
      const current = best[i];
      if (!current || better(figures, current)) best[i] = figures;
    }
  }
  return best as Figures[];
}

/** One side alone, one round (the better-auth hashing runs, the two-factor login, the 10-connection read). */
export async function measure(
  label: string,
  options: autocannon.Options,
  seconds: number,
  { warm = false, cpu }: { warm?: boolean; cpu?: CpuWatch | undefined } = {},
): Promise<Figures> {
  const [figures] = await measureSides([{ label, options, warm, cpu }], seconds, 1);
  return figures as Figures;
}
