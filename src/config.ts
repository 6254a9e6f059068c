import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  list,
  parseAlg,
  parseBool,
  parseDuration,
  parseEncryptionKey,
  parseIntRange,
  parseJwtSecret,
  parseMetricsToken,
  parseNodeEnv,
  parseRequire2fa,
  parseRoles,
  parseTrustProxy,
  parseWebauthn,
  str,
} from './config-values.js';
import { parseForwardAuth, type ForwardAuthConfig } from './config-forward-auth.js';
import { loadOidcConfig, type OidcConfig } from './config-oidc.js';

export type NodeEnv = 'development' | 'production' | 'test';
export type JwtAlg = 'HS256' | 'EdDSA';
/** Whose accounts must have a second factor to be used (REQUIRE_2FA): nobody's, administrators', everyone's. */
export type Require2fa = 'off' | 'admin' | 'all';

export interface Config {
  readonly nodeEnv: NodeEnv;
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly dataDir: string;
  readonly jwt: {
    readonly alg: JwtAlg;
    readonly secret: Uint8Array;
    readonly privateKeyPem: string | undefined;
    readonly issuer: string;
    readonly audience: string;
    readonly accessTokenTtlSeconds: number;
    readonly refreshTokenTtlSeconds: number;
  };
  /** 32 bytes; AES-256-GCM key for secrets at rest (TOTP secrets). */
  readonly encryptionKey: Buffer;
  readonly argon2: { readonly memoryKiB: number; readonly iterations: number; readonly parallelism: number };
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly redisUrl: string | undefined;
  readonly corsOrigins: readonly string[];
  readonly trustProxy: boolean | number | string;
  readonly requireEmail: boolean;
  /** Stand-alone email codes (POST /generate-2fa) go to any well-formed address, not only to accounts' addresses. */
  readonly emailCodesForAnyone: boolean;
  readonly productWriteRoles: readonly string[];
  readonly totpIssuer: string;
  readonly logLevel: string;
  readonly bodyLimitBytes: number;
  /** Base URL of this service as users reach it, for links in emails. */
  readonly publicUrl: string;
  /** Per-account brute-force lockout, like Keycloak's failure factor / wait increment / max wait. */
  readonly lockout: { readonly threshold: number; readonly baseSeconds: number; readonly maxSeconds: number };
  /** Per-client-IP sliding-window limits, requests per minute for each group of endpoints. */
  readonly rateLimits: {
    readonly login: number;
    readonly register: number;
    readonly recovery: number;
    /** Per OpenID Connect client: its token, introspection and revocation requests. */
    readonly token: number;
  };
  /**
   * Seconds after the last password/second-factor proof during which sensitive changes are allowed (the HTTP contract
   * "Security rules").
   */
  readonly reauthMaxAgeSeconds: number;
  /**
   * Whose accounts may not be used without a second factor (docs/security.md, "Required second factor"):
   * a sign-in without one gets only a set-up token.
   */
  readonly require2fa: Require2fa;
  /**
   * The WebAuthn relying party (passkeys): the RP ID credentials are scoped to, the name authenticators
   * show, and the origins a browser may sign from (W3C WebAuthn Level 3, §5.1.4.1 and §7.1 step 9).
   */
  readonly webauthn: { readonly rpId: string; readonly rpName: string; readonly origins: readonly string[] };
  /**
   * Seconds during which a spent refresh token seen again from the same client is a harmless duplicate; 0 turns it off.
   */
  readonly refreshReuseGraceSeconds: number;
  /** Forward authentication for reverse proxies: return hosts, per-host rules, the session cookie's domain. */
  readonly forwardAuth: ForwardAuthConfig;
  /** Where generated development secrets are kept, when they were used. */
  readonly secretsFile: string | undefined;
  /** Bearer token that GET /metrics requires; in production /metrics is off without it. */
  readonly metricsToken: string | undefined;
  /** The OpenID Connect provider (docs/oidc.md): issuer, signing keys, API scopes. */
  readonly oidc: OidcConfig;
}

export { ConfigError };

type Env = Record<string, string | undefined>;

// OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1 is the minimum.
const ARGON2_FLOOR = { memoryKiB: 19456, iterations: 2, parallelism: 1 };

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = parseNodeEnv(env.NODE_ENV);
  const production = nodeEnv === 'production';
  const dataDir = path.resolve(str(env.TWOFOLD_DATA_DIR) ?? './data');
  const alg = parseAlg(env.JWT_ALG);
  const requireEmail = parseBool('REQUIRE_EMAIL', env.REQUIRE_EMAIL, false);
  const smtpUrl = str(env.SMTP_URL);

  const missing = requiredSecretsMissing(env, alg);
  if (production && missing.length > 0) {
    throw new ConfigError(
      `NODE_ENV=production needs ${missing.join(' and ')}. ` +
        "Generate them with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\" " +
        '(JWT_PRIVATE_KEY for JWT_ALG=EdDSA is a PKCS#8 PEM Ed25519 key: openssl genpkey -algorithm ed25519).',
    );
  }
  if (production && requireEmail && !smtpUrl) {
    throw new ConfigError(
      'NODE_ENV=production with REQUIRE_EMAIL=true needs SMTP_URL (e.g. smtp://user:pass@mail.example.com:587).',
    );
  }
  const generated = missing.length > 0 ? loadOrCreateDevSecrets(dataDir, nodeEnv === 'test') : undefined;
  const publicUrl = (
    str(env.PUBLIC_URL) ?? `http://localhost:${parseIntRange('PORT', env.PORT, 3000, 0, 65535)}`
  ).replace(/\/+$/, '');
  const totpIssuer = str(env.TOTP_ISSUER) ?? 'Twofold';

  return Object.freeze({
    nodeEnv,
    port: parseIntRange('PORT', env.PORT, 3000, 0, 65535),
    host: str(env.HOST) ?? (production ? '0.0.0.0' : '127.0.0.1'),
    databaseUrl: str(env.DATABASE_URL) ?? `sqlite:${path.join(dataDir, 'twofold.db')}`,
    dataDir,
    jwt: Object.freeze({
      alg,
      // EdDSA signs with the private key; a shared secret is needed (and checked) only for HS256.
      secret:
        alg === 'HS256' || str(env.JWT_SECRET)
          ? parseJwtSecret(env.JWT_SECRET, generated?.jwtSecret)
          : new Uint8Array(0),
      privateKeyPem: readPrivateKey(env) ?? (alg === 'EdDSA' ? generated?.ed25519PrivateKeyPem : undefined),
      issuer: str(env.JWT_ISSUER) ?? 'twofold',
      audience: str(env.JWT_AUDIENCE) ?? 'twofold-api',
      accessTokenTtlSeconds: parseDuration('ACCESS_TOKEN_TTL', env.ACCESS_TOKEN_TTL, 600),
      refreshTokenTtlSeconds: parseDuration('REFRESH_TOKEN_TTL', env.REFRESH_TOKEN_TTL, 30 * 86400),
    }),
    encryptionKey: parseEncryptionKey(env.ENCRYPTION_KEY, generated?.encryptionKey),
    argon2: Object.freeze({
      memoryKiB: parseIntRange(
        'ARGON2_MEMORY_KIB',
        env.ARGON2_MEMORY_KIB,
        ARGON2_FLOOR.memoryKiB,
        ARGON2_FLOOR.memoryKiB,
        4194304,
      ),
      iterations: parseIntRange(
        'ARGON2_ITERATIONS',
        env.ARGON2_ITERATIONS,
        ARGON2_FLOOR.iterations,
        ARGON2_FLOOR.iterations,
        100,
      ),
      parallelism: parseIntRange('ARGON2_PARALLELISM', env.ARGON2_PARALLELISM, ARGON2_FLOOR.parallelism, 1, 16),
    }),
    smtpUrl,
    mailFrom: str(env.MAIL_FROM) ?? 'Twofold <no-reply@localhost>',
    redisUrl: str(env.REDIS_URL),
    corsOrigins: Object.freeze(list(env.CORS_ORIGINS)),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    requireEmail,
    emailCodesForAnyone: parseBool('EMAIL_CODES_FOR_ANYONE', env.EMAIL_CODES_FOR_ANYONE, false),
    productWriteRoles: Object.freeze(parseRoles(env.PRODUCT_WRITE_ROLES)),
    totpIssuer,
    logLevel: str(env.LOG_LEVEL) ?? (nodeEnv === 'test' ? 'silent' : 'info'),
    bodyLimitBytes: 64 * 1024,
    publicUrl,
    lockout: Object.freeze({
      threshold: parseIntRange('LOCKOUT_THRESHOLD', env.LOCKOUT_THRESHOLD, 5, 1, 100),
      baseSeconds: parseDuration('LOCKOUT_BASE_DELAY', env.LOCKOUT_BASE_DELAY, 60),
      maxSeconds: parseDuration('LOCKOUT_MAX_DELAY', env.LOCKOUT_MAX_DELAY, 900),
    }),
    rateLimits: Object.freeze({
      login: parseIntRange('RATE_LIMIT_LOGIN', env.RATE_LIMIT_LOGIN, 20, 1, 1_000_000),
      register: parseIntRange('RATE_LIMIT_REGISTER', env.RATE_LIMIT_REGISTER, 10, 1, 1_000_000),
      recovery: parseIntRange('RATE_LIMIT_RECOVERY', env.RATE_LIMIT_RECOVERY, 5, 1, 1_000_000),
      token: parseIntRange('RATE_LIMIT_TOKEN', env.RATE_LIMIT_TOKEN, 300, 1, 1_000_000),
    }),
    reauthMaxAgeSeconds: parseDuration('REAUTH_MAX_AGE', env.REAUTH_MAX_AGE, 300),
    require2fa: parseRequire2fa(env.REQUIRE_2FA),
    webauthn: parseWebauthn(env, publicUrl, totpIssuer),
    refreshReuseGraceSeconds: parseIntRange('REFRESH_REUSE_GRACE', env.REFRESH_REUSE_GRACE, 2, 0, 60),
    forwardAuth: parseForwardAuth(env, publicUrl),
    secretsFile: generated?.file,
    metricsToken: parseMetricsToken(env.METRICS_TOKEN),
    oidc: loadOidcConfig(env, nodeEnv, dataDir, publicUrl),
  });
}

function requiredSecretsMissing(env: Env, alg: JwtAlg): string[] {
  const missing: string[] = [];
  if (alg === 'HS256' && !str(env.JWT_SECRET)) missing.push('JWT_SECRET (at least 32 characters)');
  if (alg === 'EdDSA' && !readPrivateKey(env)) missing.push('JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE (Ed25519, PEM)');
  if (!str(env.ENCRYPTION_KEY)) missing.push('ENCRYPTION_KEY (32 random bytes, base64)');
  return missing;
}

interface DevSecrets {
  jwtSecret: string;
  encryptionKey: string;
  ed25519PrivateKeyPem: string;
  file: string | undefined;
}

/** Development only: secrets generated once and kept in the data directory (mode 0600). */
function loadOrCreateDevSecrets(dataDir: string, ephemeral: boolean): DevSecrets {
  if (ephemeral) return { ...generateSecrets(), file: undefined };
  const file = path.join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>;
      if (stored.jwtSecret && stored.encryptionKey && stored.ed25519PrivateKeyPem) {
        return {
          jwtSecret: stored.jwtSecret,
          encryptionKey: stored.encryptionKey,
          ed25519PrivateKeyPem: stored.ed25519PrivateKeyPem,
          file,
        };
      }
    } catch {
      throw new ConfigError(`${file} is not readable JSON; fix or delete it (deleting signs every user out).`);
    }
  }
  const secrets = generateSecrets();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { ...secrets, file };
}

function generateSecrets(): Omit<DevSecrets, 'file'> {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    jwtSecret: randomBytes(48).toString('base64url'),
    encryptionKey: randomBytes(32).toString('base64'),
    ed25519PrivateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

function readPrivateKey(env: Env): string | undefined {
  const inline = str(env.JWT_PRIVATE_KEY);
  if (inline) return inline.replace(/\\n/g, '\n');
  const file = str(env.JWT_PRIVATE_KEY_FILE);
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`JWT_PRIVATE_KEY_FILE: cannot read ${file}.`);
  }
}
