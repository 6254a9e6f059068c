/**
 * Keycloak's published sizing ("Concepts for sizing CPU and memory resources", Keycloak 26 high
 * availability guide): one vCPU for each 15 password-based logins per second (most of it the
 * password hash), 120 client credentials grants per second (most of it new TLS connections: each of
 * its load's clients sends one request) and 120 refresh token requests per second. Printed beside
 * Twofold's operations per second per core, as published figures, not measurements of this machine.
 */
export const KEYCLOAK_PER_VCPU = {
  passwordLogins: 15,
  refreshes: 120,
  clientCredentials: 120,
} as const;

/**
 * Keycloak 26's default password hash outside FIPS mode (its server configuration guide,
 * `spi-password-hashing-argon2-*`): argon2id, 7168 KiB, 5 iterations, parallelism 1 (OWASP's
 * Password Storage Cheat Sheet lists m=7 MiB t=5 beside Twofold's m=19 MiB t=2 as equivalent).
 */
export const KEYCLOAK_ARGON2 = { memoryKiB: 7168, iterations: 5, parallelism: 1 } as const;

/** Said under every cost table: what the published figures are and are not. */
export const KEYCLOAK_NOTE =
  "Keycloak's figures are its sizing guide's, per vCPU with TLS and a cluster, not measured here; ops/s per core = operations ÷ CPU seconds of Twofold and its database together";
