import { describe, expect, it } from 'vitest';
import { failureMemoryMs, FAILURE_MEMORY_MS, lockSecondsAfterFailures } from './lockout.policy.js';

const POLICY = { threshold: 5, baseSeconds: 60, maxSeconds: 900 };

describe('the lockout rule', () => {
  it('locks nobody below the threshold, then doubles the lock with each further failure up to the maximum', () => {
    expect([1, 2, 3, 4].map((n) => lockSecondsAfterFailures(n, POLICY))).toEqual([0, 0, 0, 0]);
    expect([5, 6, 7, 8, 9, 10].map((n) => lockSecondsAfterFailures(n, POLICY))).toEqual([60, 120, 240, 480, 900, 900]);
  });

  it('stays at the maximum for any number of failures, without overflowing', () => {
    expect(lockSecondsAfterFailures(1_000_000, POLICY)).toBe(900);
    expect(lockSecondsAfterFailures(1, { threshold: 1, baseSeconds: 30, maxSeconds: 30 })).toBe(30);
  });

  it('remembers failures for a day, or longer than the longest lock', () => {
    expect(failureMemoryMs(POLICY)).toBe(FAILURE_MEMORY_MS);
    expect(failureMemoryMs({ ...POLICY, maxSeconds: 2 * 86_400 })).toBe(2 * 86_400_000 + 60_000);
  });
});
