import { execFileSync } from 'node:child_process';
import { serverPids, type DatabaseServer } from './cpu.js';

/**
 * Where each process of the two-instance comparison runs. A second instance shows what it adds only
 * when it has a core of its own: with the load generator, two instances and the database sharing
 * two cores, "two instances ÷ one" measures the contention, not the instances. With four cores or
 * more each gets its own (`taskset`, util-linux): instance 1 (and the single-instance sides and the
 * ceiling it is compared with) on core 0, instance 2 on core 1, the database server and Redis on
 * the cores between, the load generator (this process) on the last.
 */
export interface Pinning {
  /** undefined: nothing pinned, and `reason` says why. */
  plan: { first: string; second: string; database: string; loadGenerator: string } | undefined;
  reason: string;
}

export function pinningPlan(cores: number): Pinning {
  if (cores < 4)
    return {
      plan: undefined,
      reason: `${cores} cores: the load generator, two instances and the database cannot each have a core of their own, so nothing is pinned and "two instances ÷ one" shows contention, not what an instance adds; the per-core costs below carry to larger machines`,
    };
  const last = cores - 1;
  return {
    plan: { first: '0', second: '1', database: last - 1 > 2 ? `2-${last - 1}` : '2', loadGenerator: String(last) },
    reason: `${cores} cores: instance 1, the single-instance sides and the ceiling on core 0, instance 2 on core 1, the database and Redis on cores ${last - 1 > 2 ? `2-${last - 1}` : '2'}, the load generator on core ${last}`,
  };
}

/** Sets the CPU affinity of every thread of a running process. */
function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * Applies the plan; returns the function that gives every pinned process all cores back (the
 * database server outlives the run). A failure to pin is reported and the run goes on unpinned.
 */
export function applyPinning(
  pinning: Pinning,
  processes: { first: number[]; second: number[]; database: DatabaseServer },
  cores: number,
): { restore: () => void; applied: string } {
  const { plan } = pinning;
  if (!plan) return { restore: () => undefined, applied: pinning.reason };
  const all = `0-${cores - 1}`;
  const touched: number[] = [];
  const restore = (): void => {
    for (const pid of touched) {
      try {
        pin(pid, all);
      } catch {
        // The process has ended: nothing to give back.
      }
    }
  };
  try {
    const place = (pids: number[], cpus: string): void => {
      for (const pid of pids) {
        pin(pid, cpus);
        touched.push(pid);
      }
    };
    place(processes.first, plan.first);
    place(processes.second, plan.second);
    // PostgreSQL's new backends inherit the postmaster's affinity: pinning every process covers them.
    place(serverPids(processes.database, true), plan.database);
    place([process.pid], plan.loadGenerator);
    return { restore, applied: pinning.reason };
  } catch (error) {
    restore();
    const reason = error instanceof Error ? error.message : String(error);
    return { restore: () => undefined, applied: `pinning failed (${reason}); nothing is pinned` };
  }
}
