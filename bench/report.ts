import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type autocannon from 'autocannon';
import { cpuSecondsPerThousand, operationsPerCore, type CpuUse } from './cpu.js';

/** The read's latency target: p99 within this factor of the ceiling's p99 in the same run. */
export const READ_P99_FACTOR = 1.3;

export interface Figures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** CPU the service (and its database server) spent during the run, when the side was watched. */
  cpu?: CpuUse | undefined;
}

export interface ScenarioResult {
  scenario: string;
  twofold: Figures;
  /** The bare-Fastify ceiling doing the same work by hand, when the scenario has one. */
  ceiling?: Figures | undefined;
  /** better-auth doing the same job, when the scenario has a peer. */
  peer?: Figures | undefined;
  /** Why the scenario's better-auth side did not run, shown in its column instead of a figure. */
  peerMissing?: string | undefined;
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
  /**
   * Keycloak's published sizing for the same kind of operation, per vCPU ("Concepts for sizing CPU
   * and memory resources", Keycloak 26), printed beside Twofold's operations per second per core.
   */
  keycloakPerVcpu?: number | undefined;
  /** What one operation is when it takes several requests (a two-factor login: 2). */
  requestsPerOperation?: number | undefined;
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
      ? `${num(r.ceiling.requestsPerSecond)} (${Math.round(percentOf(r.twofold.requestsPerSecond, r.ceiling.requestsPerSecond))}%), p99 ${num(r.ceiling.p99Ms)} ms`
      : '–';
    const peer = r.peer
      ? `${num(r.peer.requestsPerSecond)} (×${(r.twofold.requestsPerSecond / Math.max(r.peer.requestsPerSecond, 0.001)).toFixed(1)})`
      : r.peerMissing
        ? `– (${r.peerMissing})`
        : '–';
    const verdict = r.note ?? `${Math.round(r.percent ?? 0)}% ${r.target}: ${r.met ? 'meets' : 'BELOW'}`;
    return `| ${r.scenario} | ${num(r.twofold.requestsPerSecond)} | ${num(r.twofold.p50Ms)} | ${num(r.twofold.p99Ms)} | ${ceiling} | ${peer} | ${verdict} |`;
  });
  return [
    '| scenario | Twofold req/s | p50 ms | p99 ms | ceiling req/s (Twofold %), ceiling p99 | better-auth req/s (Twofold ×) | target |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
}

/** CPU seconds per 1,000 operations of one side, or '–' when it was not watched. */
function perThousand(figures: Figures | undefined, requestsPerOperation: number): string {
  if (!figures?.cpu || figures.requests === 0) return '–';
  return cpuSecondsPerThousand(figures.cpu, figures.requests / requestsPerOperation).toFixed(2);
}

/** Operations per second per core of one side (all its watched processes), or undefined. */
export function perCore(figures: Figures | undefined, requestsPerOperation = 1): number | undefined {
  if (!figures?.cpu || figures.requests === 0) return undefined;
  const rate = operationsPerCore(figures.cpu, figures.requests / requestsPerOperation);
  return Number.isFinite(rate) ? rate : undefined;
}

/**
 * The cost table: CPU seconds per 1,000 operations (Twofold's process, and the database server's
 * processes beside it), operations per second per core, the ceiling's per core for the same work,
 * and Keycloak's published sizing per vCPU where it publishes one.
 */
export function costTable(results: ScenarioResult[]): string {
  const rows = results
    .filter((r) => r.twofold.cpu)
    .map((r) => {
      const per = r.requestsPerOperation ?? 1;
      const cpu = r.twofold.cpu as CpuUse;
      const operations = r.twofold.requests / per;
      const database = operations > 0 ? ((1000 * cpu.databaseSeconds) / operations).toFixed(2) : '–';
      const service = operations > 0 ? ((1000 * cpu.serviceSeconds) / operations).toFixed(2) : '–';
      const core = perCore(r.twofold, per);
      const ceilingCore = perCore(r.ceiling, per);
      const keycloak =
        r.keycloakPerVcpu !== undefined && core !== undefined
          ? `${r.keycloakPerVcpu} (Twofold ×${(core / r.keycloakPerVcpu).toFixed(1)})`
          : '–';
      return `| ${r.scenario} | ${service} | ${database} | ${perThousand(r.twofold, per)} | ${core === undefined ? '–' : num(core)} | ${ceilingCore === undefined ? '–' : num(ceilingCore)} | ${keycloak} |`;
    });
  return [
    '| scenario | Twofold CPU s per 1,000 ops | database CPU s per 1,000 ops | total | ops/s per core | ceiling ops/s per core | Keycloak per vCPU (published) |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
}

/**
 * What the per-core cost predicts for larger machines: operations per second per core (Twofold and
 * its database together) times the cores, as Keycloak's guide also assumes CPU to scale linearly.
 * An upper bound: it leaves out the load generator, the network and contention on hot rows.
 */
export function projectionLines(results: ScenarioResult[], coreCounts: number[]): string[] {
  return results.flatMap((r) => {
    const core = perCore(r.twofold, r.requestsPerOperation ?? 1);
    if (core === undefined) return [];
    const each = coreCounts.map((n) => `${n} cores ≈ ${num(core * n)}/s`).join(', ');
    return [`| ${r.scenario} | ${num(core)}/s per core | ${each} |`];
  });
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
