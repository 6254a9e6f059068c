import { createArgon2Hasher, type Argon2Params } from '../src/lib/password-hasher.js';
import { KEYCLOAK_ARGON2, KEYCLOAK_PER_VCPU } from './keycloak.js';
import { BENCH_PASSWORD } from './seed.js';

/** Milliseconds for one hash verification on one thread, the median of `runs` sequential ones. */
export async function hashMs(work: () => Promise<unknown>, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)] as number;
}

/** One argon2id verification at these parameters on one thread (median of `runs`), through Twofold's hasher. */
export async function argon2Ms(params: Argon2Params, runs = 21): Promise<number> {
  const hasher = createArgon2Hasher(params);
  const stored = await hasher.hash(BENCH_PASSWORD);
  return hashMs(() => hasher.verify(stored, BENCH_PASSWORD), runs);
}

/** "argon2id m=… KiB t=… p=…", as the server describes its own hasher. */
export function describeArgon2(params: Argon2Params): string {
  return createArgon2Hasher(params).description;
}

/** Twofold's hash beside Keycloak 26's default, timed on this machine with the same library. */
export interface HashComparison {
  twofoldMs: number;
  keycloakDefaultMs: number;
}

export async function compareWithKeycloak(params: Argon2Params): Promise<HashComparison> {
  return { twofoldMs: await argon2Ms(params), keycloakDefaultMs: await argon2Ms(KEYCLOAK_ARGON2) };
}

/** The line printed under every table: what one login's hash costs here, beside Keycloak's default. */
export function hashingLine(params: Argon2Params, hashes: HashComparison): string {
  const ratio = hashes.twofoldMs / hashes.keycloakDefaultMs;
  return (
    `| password hash, one thread | Twofold ${describeArgon2(params)}: ${hashes.twofoldMs.toFixed(1)} ms | ` +
    `Keycloak 26's default ${describeArgon2(KEYCLOAK_ARGON2)} (OWASP's equivalent setting): ${hashes.keycloakDefaultMs.toFixed(1)} ms | ` +
    // Keycloak's guide says its logins spend most of their CPU hashing: scale its figure by the hashes' ratio.
    `Twofold's hash costs ×${ratio.toFixed(2)} Keycloak's; at Twofold's setting Keycloak's ${KEYCLOAK_PER_VCPU.passwordLogins} logins/s per vCPU would be about ${(KEYCLOAK_PER_VCPU.passwordLogins / ratio).toFixed(0)} |`
  );
}
