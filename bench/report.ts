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
  /** The bare-Fastify ceiling doing the same work by hand, when the scenario has one. */
  ceiling?: Figures | undefined;
  /** better-auth doing the same job, when the scenario has a peer. */
  peer?: Figures | undefined;
  /**
   * Twofold's own figures this row is compared with, measured in alternation with it: the small
   * database for the scale rows, one instance for the two-instance rows.
   */
  baseline?: Figures | undefined;
  /**
   * What the target compares, e.g. `≥ 70% of ceiling`, and whether this run met it (absent for rows that only report).
   */
  target: string;
  met?: boolean | undefined;
  /** Twofold's figure as a percentage of the reference the target names. */
  percent?: number | undefined;
  /**
   * Replaces the target column's `percent% target: meets|BELOW`, for rows that report a figure rather than meet a
   * target.
   */
  note?: string | undefined;
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
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: date.toISOString(),
  };
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

export function percentOf(value: number, reference: number): number {
  return reference > 0 ? (100 * value) / reference : 0;
}

/** A figure for the table: thousands separated from 100 up, one decimal below. */
export function num(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

export function markdownTable(results: ScenarioResult[]): string {
  const rows = results.map((r) => {
    const ceiling = r.ceiling
      ? `${num(r.ceiling.requestsPerSecond)} (${Math.round(percentOf(r.twofold.requestsPerSecond, r.ceiling.requestsPerSecond))}%)`
      : '–';
    const peer = r.peer
      ? `${num(r.peer.requestsPerSecond)} (×${(r.twofold.requestsPerSecond / Math.max(r.peer.requestsPerSecond, 0.001)).toFixed(1)})`
      : '–';
    const verdict = r.note ?? `${Math.round(r.percent ?? 0)}% ${r.target}: ${r.met ? 'meets' : 'BELOW'}`;
    return `| ${r.scenario} | ${num(r.twofold.requestsPerSecond)} | ${num(r.twofold.p50Ms)} | ${num(r.twofold.p99Ms)} | ${ceiling} | ${peer} | ${verdict} |`;
  });
  return [
    '| scenario | Twofold req/s | p50 ms | p99 ms | ceiling req/s (Twofold %) | better-auth req/s (Twofold ×) | target |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
}

/** Requests that failed make a figure meaningless; say so beside the table rather than hide it. */
export function failureNotes(results: ScenarioResult[]): string[] {
  return results.flatMap((r) =>
    (['twofold', 'ceiling', 'peer', 'baseline'] as const).flatMap((side) => {
      const figures = r[side];
      if (!figures || (figures.non2xx === 0 && figures.errors === 0)) return [];
      return [
        `warning: ${r.scenario} (${side}): ${figures.non2xx} non-2xx responses and ${figures.errors} connection errors out of ${figures.requests} requests`,
      ];
    }),
  );
}

/** The first lines of every mode's output: what ran, where. */
export function headerLines(machine: Machine, title: string): string[] {
  return [
    `Twofold benchmark${title ? ` (${title})` : ''}, ${machine.date}`,
    `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}`,
  ];
}

/**
 * Writes bench/results/<ISO date>[-<mode>].json (colons replaced, for file systems that refuse
 * them) and returns its path.
 */
export function writeResults(directory: string, date: Date, payload: object, mode?: string): string {
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `${date.toISOString().replace(/:/g, '-')}${mode ? `-${mode}` : ''}.json`);
  writeFileSync(file, JSON.stringify(payload, null, 2) + '\n');
  return file;
}
