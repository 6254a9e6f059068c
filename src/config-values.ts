import type { JwtAlg, NodeEnv, Require2fa } from './config.js';

// How each environment variable is read: trimmed, empty meaning unset, and refused with a message a
// person can act on. src/config.ts decides which variables exist and their defaults.

/** Thrown for configuration a person must fix; main prints the message and exits 1. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function parseJwtSecret(value: string | undefined, fallback: string | undefined): Uint8Array {
  const secret = str(value) ?? fallback ?? '';
  // RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
  if (secret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters long.');
  return new TextEncoder().encode(secret);
}

export function parseMetricsToken(value: string | undefined): string | undefined {
  const token = str(value);
  // A short token could be guessed; a random one of this length cannot.
  if (token !== undefined && token.length < 16)
    throw new ConfigError('METRICS_TOKEN must be at least 16 characters long (e.g. openssl rand -hex 32).');
  return token;
}

export function parseEncryptionKey(value: string | undefined, fallback: string | undefined): Buffer {
  const key = Buffer.from(str(value) ?? fallback ?? '', 'base64');
  if (key.length !== 32) throw new ConfigError('ENCRYPTION_KEY must be 32 bytes encoded in base64 (44 characters).');
  return key;
}

export function parseNodeEnv(value: string | undefined): NodeEnv {
  const v = str(value) ?? 'development';
  if (v === 'development' || v === 'production' || v === 'test') return v;
  throw new ConfigError(`NODE_ENV must be development, production or test (got "${v}").`);
}

export function parseAlg(value: string | undefined): JwtAlg {
  const v = str(value) ?? 'HS256';
  if (v === 'HS256' || v === 'EdDSA') return v;
  throw new ConfigError(`JWT_ALG must be HS256 or EdDSA (got "${v}").`);
}

export function parseRequire2fa(value: string | undefined): Require2fa {
  const v = str(value)?.toLowerCase() ?? 'off';
  if (v === 'off' || v === 'admin' || v === 'all') return v;
  throw new ConfigError(`REQUIRE_2FA must be off, admin or all (got "${value}").`);
}

export function parseRoles(value: string | undefined): string[] {
  const roles = list(value);
  if (roles.length === 0) return ['user', 'admin'];
  const unknown = roles.filter((r) => r !== 'user' && r !== 'admin');
  if (unknown.length > 0)
    throw new ConfigError(`PRODUCT_WRITE_ROLES: unknown role(s) ${unknown.join(', ')}; use user and/or admin.`);
  return roles;
}

export function parseTrustProxy(value: string | undefined): boolean | number | string {
  const v = str(value);
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}

export function parseBool(name: string, value: string | undefined, fallback: boolean): boolean {
  const v = str(value)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false (got "${value}").`);
}

export function parseIntRange(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = str(value);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${v}").`);
  return n;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds, or a number with a unit: 600, 10m, 12h, 30d. */
export function parseDuration(name: string, value: string | undefined, fallback: number): number {
  const v = str(value);
  if (v === undefined) return fallback;
  const match = /^(\d+)([smhd]?)$/.exec(v);
  const seconds = match ? Number(match[1]) * (DURATION_UNITS[match[2] || 's'] ?? 1) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0)
    throw new ConfigError(`${name} must be a positive duration such as 600, 10m, 12h or 30d (got "${v}").`);
  return seconds;
}

export function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function str(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

/**
 * WEBAUTHN_RP_ID, WEBAUTHN_RP_NAME, WEBAUTHN_ORIGINS. The RP ID is a host name, never a URL (W3C WebAuthn
 * Level 3, §5.1.4.1: a registrable domain suffix of the origin's effective domain); the origins are whole
 * origins (scheme, host, port), compared exactly with the client data's `origin` (§7.1 step 9).
 */
export function parseWebauthn(
  env: Record<string, string | undefined>,
  publicUrl: string,
  totpIssuer: string,
): { rpId: string; rpName: string; origins: readonly string[] } {
  let fromPublicUrl: URL;
  try {
    fromPublicUrl = new URL(publicUrl);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be a URL such as https://auth.example.com (got "${publicUrl}").`);
  }
  const rpId = str(env.WEBAUTHN_RP_ID) ?? fromPublicUrl.hostname;
  if (!/^[a-z0-9.-]+$/i.test(rpId) || rpId.startsWith('.') || rpId.endsWith('.')) {
    throw new ConfigError(
      `WEBAUTHN_RP_ID must be a host name such as example.com, without scheme or port (got "${rpId}").`,
    );
  }
  const origins = list(env.WEBAUTHN_ORIGINS).map((origin) => {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (url?.origin !== origin) {
      throw new ConfigError(
        `WEBAUTHN_ORIGINS must list origins such as https://auth.example.com, without a path or a trailing slash (got "${origin}").`,
      );
    }
    return origin;
  });
  return Object.freeze({
    rpId: rpId.toLowerCase(),
    rpName: str(env.WEBAUTHN_RP_NAME) ?? totpIssuer,
    origins: Object.freeze(origins.length > 0 ? origins : [fromPublicUrl.origin]),
  });
}
