import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type autocannon from 'autocannon';

export interface Figures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
}

export interface ScenarioResult {
  scenario: string;
  twofold: Figures;
  ceiling: Figures;
  percentOfCeiling: number;
  targetPercent: number;
}

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  date: string;
}

export function describeMachine(date: Date): Machine {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, platform: `${os.platform()} ${os.release()}`, date: date.toISOString() };
}

export function figuresOf(result: autocannon.Result): Figures {
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

export function compare(scenario: string, twofold: Figures, ceiling: Figures, targetPercent: number): ScenarioResult {
  const percentOfCeiling = ceiling.requestsPerSecond > 0 ? (100 * twofold.requestsPerSecond) / ceiling.requestsPerSecond : 0;
  return { scenario, twofold, ceiling, percentOfCeiling, targetPercent };
}

function num(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

export function markdownTable(results: ScenarioResult[]): string {
  const rows = results.map((r) => {
    const verdict = r.percentOfCeiling >= r.targetPercent ? 'meets' : 'BELOW';
    const percent = `${Math.round(r.percentOfCeiling)}% (target ≥ ${r.targetPercent}%: ${verdict})`;
    return `| ${r.scenario} | ${num(r.twofold.requestsPerSecond)} | ${num(r.twofold.p50Ms)} | ${num(r.twofold.p99Ms)} | ${num(r.ceiling.requestsPerSecond)} | ${num(r.ceiling.p99Ms)} | ${percent} |`;
  });
  return [
    '| scenario | Twofold req/s | p50 ms | p99 ms | ceiling req/s | ceiling p99 ms | Twofold % of ceiling |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

/** Requests that failed make a figure meaningless; say so beside the table rather than hide it. */
export function failureNotes(results: ScenarioResult[]): string[] {
  return results.flatMap((r) =>
    (['twofold', 'ceiling'] as const)
      .filter((side) => r[side].non2xx > 0 || r[side].errors > 0)
      .map((side) => `warning: ${r.scenario} (${side}): ${r[side].non2xx} non-2xx responses and ${r[side].errors} connection errors out of ${r[side].requests} requests`),
  );
}

/** Writes bench/results/<ISO date>.json (colons replaced, for file systems that refuse them) and returns its path. */
export function writeResults(directory: string, date: Date, payload: object): string {
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `${date.toISOString().replace(/:/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(payload, null, 2) + '\n');
  return file;
}
