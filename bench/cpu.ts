import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time spent by the processes under test during one measured run, read from Linux's /proc
 * (proc(5): utime and stime of /proc/<pid>/stat, in clock ticks). Unlike requests per second on a
 * shared machine, CPU seconds per operation carry to other machines: a core gives one CPU second
 * per second, whatever else runs beside it.
 */

/** The database servers whose processes are counted beside Twofold's own. */
export type DatabaseServer = 'postgres' | 'mysql';

/** What a measured run is charged for. */
export interface CpuWatch {
  /** The service's own processes (Twofold's instances, or the ceiling's). */
  service: number[];
  /** Every process of this database server on the machine (PostgreSQL runs one per connection). */
  database?: DatabaseServer | undefined;
  /** Redis's process, counted with the database. */
  redis?: boolean | undefined;
}

/** CPU seconds the watched processes used over one run. */
export interface CpuUse {
  serviceSeconds: number;
  /** The database server's processes (and Redis's); 0 for SQLite, which runs inside the service. */
  databaseSeconds: number;
}

/** Process names (/proc/<pid>/comm) of each server. */
const SERVER_NAMES: Record<DatabaseServer | 'redis', readonly string[]> = {
  postgres: ['postgres'],
  mysql: ['mariadbd', 'mysqld'],
  redis: ['redis-server'],
};

let ticksPerSecond: number | undefined;

/** Clock ticks per second (sysconf(_SC_CLK_TCK), almost always 100). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of a process in clock ticks; 0 once it has gone (or on a system without /proc). */
export function processTicks(pid: number): number {
  try {
    // The name in parentheses may hold spaces: the fields are counted after its closing ')'.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** The processes running under any of these names. */
function pidsNamed(names: readonly string[]): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      return names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim()) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

/** Ticks per process at one instant, the service's and the database's apart. */
export interface CpuSnapshot {
  service: Map<number, number>;
  database: Map<number, number>;
}

function ticksOf(pids: number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, processTicks(pid)]));
}

/** Every process of a database server (and Redis's, when asked). */
export function serverPids(database: DatabaseServer | undefined, redis = false): number[] {
  const names = [...(database ? SERVER_NAMES[database] : []), ...(redis ? SERVER_NAMES.redis : [])];
  return names.length > 0 ? pidsNamed(names) : [];
}

export function cpuSnapshot(watch: CpuWatch): CpuSnapshot {
  const names = [...(watch.database ? SERVER_NAMES[watch.database] : []), ...(watch.redis ? SERVER_NAMES.redis : [])];
  return { service: ticksOf(watch.service), database: ticksOf(names.length > 0 ? pidsNamed(names) : []) };
}

/**
 * CPU seconds since `before`. A process started meanwhile (a new PostgreSQL backend) counts from
 * zero; one that ended meanwhile is lost with its ticks (pools keep their connections open, so
 * this is rare and small).
 */
export function cpuSince(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const spent = (was: Map<number, number>, now: Map<number, number>): number => {
    let ticks = 0;
    for (const [pid, value] of now) ticks += Math.max(0, value - (was.get(pid) ?? 0));
    return ticks / clockTicks();
  };
  return {
    serviceSeconds: spent(before.service, after.service),
    databaseSeconds: spent(before.database, after.database),
  };
}

/** CPU seconds per 1,000 operations, all watched processes together. */
export function cpuSecondsPerThousand(cpu: CpuUse, operations: number): number {
  return operations > 0 ? (1000 * (cpu.serviceSeconds + cpu.databaseSeconds)) / operations : Number.NaN;
}

/** Operations one core completes per second at this cost: the figure that compares with a per-vCPU sizing. */
export function operationsPerCore(cpu: CpuUse, operations: number): number {
  const seconds = cpu.serviceSeconds + cpu.databaseSeconds;
  return seconds > 0 ? operations / seconds : Number.NaN;
}

/** The CPU of several runs added up; undefined unless every run was watched. */
export function addCpu(parts: Array<CpuUse | undefined>): CpuUse | undefined {
  if (parts.length === 0 || parts.some((part) => part === undefined)) return undefined;
  return {
    serviceSeconds: parts.reduce((sum, part) => sum + (part as CpuUse).serviceSeconds, 0),
    databaseSeconds: parts.reduce((sum, part) => sum + (part as CpuUse).databaseSeconds, 0),
  };
}
