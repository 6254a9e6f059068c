import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPinning, pinningPlan, type Pinning } from '../../bench/pinning.js';

// The benchmark's placement of two instances, the database and the load generator on cores of their
// own. This machine may have only two cores, so the plan for larger ones is checked as data, and
// `taskset` is checked on real processes with cores every machine has.

const CORES = availableParallelism();
/** Every core, as taskset takes it and as the kernel lists it (a single core is listed as "0"). */
const ALL = CORES === 1 ? '0' : `0-${CORES - 1}`;
const children: ChildProcess[] = [];

function sleeper(): number {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  return child.pid as number;
}

/** The cores a process may run on, as the kernel reports them (proc(5), Cpus_allowed_list). */
function allowed(pid: number): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe('the benchmark pins each process of the several-instance run to cores of its own', () => {
  it('pins nothing on fewer than four cores and says why', () => {
    for (const cores of [1, 2, 3]) {
      const pinning = pinningPlan(cores);
      expect(pinning.plan).toBeUndefined();
      expect(pinning.reason).toMatch(new RegExp(`^${cores} cores: .*nothing is pinned`));
    }
  });

  it('gives each instance a core, the database the cores between, the load generator the last', () => {
    expect(pinningPlan(4).plan).toEqual({ first: '0', second: '1', database: '2', loadGenerator: '3' });
    expect(pinningPlan(8).plan).toEqual({ first: '0', second: '1', database: '2-6', loadGenerator: '7' });
    expect(pinningPlan(16).plan).toEqual({ first: '0', second: '1', database: '2-14', loadGenerator: '15' });
    expect(pinningPlan(16).reason).toContain('the database and Redis on cores 2-14');
  });

  // A one-core machine cannot show two placements; in CI it fails rather than skip.
  it.runIf(CORES >= 2 || process.env.CI === 'true')(
    'pins real processes with taskset and gives every core back afterwards',
    () => {
      const first = sleeper();
      const second = sleeper();
      // Only cores this machine has; the database server and this process go where they may run anyway.
      const plan: Pinning = {
        plan: { first: '0', second: '1', database: ALL, loadGenerator: ALL },
        reason: 'test placement',
      };
      const { restore, applied } = applyPinning(
        plan,
        { first: [first], second: [second], database: 'postgres' },
        CORES,
      );
      expect(applied).toBe('test placement');
      expect(allowed(first)).toBe('0');
      expect(allowed(second)).toBe('1');
      restore();
      expect(allowed(first)).toBe(ALL);
      expect(allowed(second)).toBe(ALL);
    },
  );

  it('reports a core the machine lacks, unpins what it had pinned and lets the run go on', () => {
    const first = sleeper();
    const second = sleeper();
    const missing = String(CORES + 8);
    const plan: Pinning = {
      plan: { first: '0', second: missing, database: missing, loadGenerator: missing },
      reason: 'test placement',
    };
    const { restore, applied } = applyPinning(plan, { first: [first], second: [second], database: 'postgres' }, CORES);
    expect(applied).toMatch(/^pinning failed \(.*\); nothing is pinned$/);
    expect(allowed(first)).toBe(ALL);
    expect(allowed(second)).toBe(ALL);
    expect(() => restore()).not.toThrow();
  });
});
