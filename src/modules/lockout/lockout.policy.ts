/**
 * How long a failure count is remembered after the last failure when no further failure comes
 * (Keycloak: "failure reset time", default 12 hours). Without it the rows of unknown names could
 * never be deleted, and deleting them while known accounts remember would tell the two apart.
 */
export const FAILURE_MEMORY_MS = 24 * 60 * 60 * 1000;

export interface LockoutPolicy {
  /** Consecutive failures that lock the account (Keycloak: failure factor). */
  threshold: number;
  /** First lock duration; doubles with every further failure (Keycloak: wait increment). */
  baseSeconds: number;
  /** Longest lock (Keycloak: max wait). */
  maxSeconds: number;
}

/**
 * The rule that locks an account: after `failures` consecutive failures, no lock below the
 * threshold, then a lock that doubles with each further failure up to the maximum (NIST SP 800-63B
 * §5.2.2, rate limiting; Keycloak's brute-force detection uses the same three settings).
 */
export function lockSecondsAfterFailures(failures: number, policy: LockoutPolicy): number {
  if (failures < policy.threshold) return 0;
  return Math.min(policy.baseSeconds * 2 ** Math.min(failures - policy.threshold, 30), policy.maxSeconds);
}

/** The failure memory for a policy: at least a day, and always longer than the longest lock. */
export function failureMemoryMs(policy: LockoutPolicy): number {
  return Math.max(FAILURE_MEMORY_MS, policy.maxSeconds * 1000 + 60_000);
}
