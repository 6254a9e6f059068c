import { createPrivateKey, generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, list, str } from './config-values.js';

/** A private signing key as a JWK (RFC 7517), with the `alg` it signs with. */
export type SigningJwk = JsonWebKey & { kid: string; alg: string; d: string };

export interface OidcConfig {
  /** The issuer identifier (OpenID Connect Discovery 1.0 §3): an https URL in production, no query or fragment. */
  readonly issuer: string;
  /**
   * The signing keys, private; the first key of each algorithm signs, the others only verify (kept
   * published in the JWKS until removed). Undefined only in production without OIDC_SIGNING_KEYS_FILE:
   * the provider is then off.
   */
  readonly signingKeys: readonly SigningJwk[] | undefined;
  /** Where the keys came from: the file named by OIDC_SIGNING_KEYS_FILE, the generated development file, or memory. */
  readonly signingKeysSource: string;
  /** Scopes of the protected APIs a client may be given (`--scope`), beside the OpenID Connect ones. */
  readonly apiScopes: readonly string[];
}

type Env = Record<string, string | undefined>;

/** The scopes the provider always knows (OpenID Connect Core 1.0 §5.4, §11), plus `roles`. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'roles'] as const;

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 §3.3 scope-token

export function loadOidcConfig(env: Env, nodeEnv: string, dataDir: string, publicUrl: string): OidcConfig {
  const issuer = (str(env.OIDC_ISSUER) ?? publicUrl).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(`OIDC_ISSUER must be a URL such as https://auth.example.com (got "${issuer}").`);
  }
  // OpenID Connect Discovery 1.0 §3: the issuer is a case-sensitive https URL without query or fragment.
  if (url.search || url.hash || !/^https?:$/.test(url.protocol))
    throw new ConfigError(`OIDC_ISSUER must be an http(s) URL without query or fragment (got "${issuer}").`);

  const apiScopes = list(env.OIDC_SCOPES);
  for (const scope of apiScopes) {
    if (!SCOPE_TOKEN.test(scope) || (OIDC_SCOPES as readonly string[]).includes(scope))
      throw new ConfigError(
        `OIDC_SCOPES lists API scopes such as reports:read, separated by commas; "${scope}" is not one.`,
      );
  }

  const file = str(env.OIDC_SIGNING_KEYS_FILE);
  let signingKeys: SigningJwk[] | undefined;
  let source: string;
  if (file) {
    signingKeys = readKeys(file, 'OIDC_SIGNING_KEYS_FILE');
    source = file;
  } else if (nodeEnv === 'production') {
    signingKeys = undefined;
    source = 'none: set OIDC_SIGNING_KEYS_FILE to turn the OpenID Connect provider on';
  } else if (nodeEnv === 'test') {
    signingKeys = testKeys();
    source = 'memory';
  } else {
    const devFile = path.join(dataDir, 'oidc-keys.json');
    signingKeys = existsSync(devFile) ? readKeys(devFile, devFile) : writeDevKeys(dataDir, devFile);
    source = devFile;
  }
  // OpenID Connect Discovery 1.0 §3 and Core §3.1.2.1: the issuer uses https; plain http is for development.
  if (nodeEnv === 'production' && signingKeys && url.protocol !== 'https:')
    throw new ConfigError(`OIDC_ISSUER (or PUBLIC_URL) must be an https URL in production (got "${issuer}").`);
  return Object.freeze({
    issuer,
    signingKeys: signingKeys && Object.freeze(signingKeys),
    signingKeysSource: source,
    apiScopes: Object.freeze(apiScopes),
  });
}

/** A JWKS (RFC 7517 §5) of private keys: RSA (RS256) and Ed25519 (EdDSA) or P-256 (ES256). */
function readKeys(file: string, name: string): SigningJwk[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new ConfigError(`${name}: ${file} is not a readable JSON file (a JWKS: {"keys": [ … ]}).`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0)
    throw new ConfigError(`${name}: ${file} must be a JWKS with private keys: {"keys": [ … ]}.`);
  const checked = keys.map((key: unknown, index) => checkKey(key, `${name}: key ${index + 1} of ${file}`));
  // OpenID Connect Core 1.0 §15.1: RS256 is the algorithm every relying party must be able to verify.
  if (!checked.some((key) => key.alg === 'RS256'))
    throw new ConfigError(`${name}: ${file} needs an RSA key for RS256 (OpenID Connect Core 1.0 §15.1).`);
  return checked;
}

const ALG_OF: Record<string, string> = { RSA: 'RS256', OKP: 'EdDSA', EC: 'ES256' };

function checkKey(key: unknown, where: string): SigningJwk {
  if (typeof key !== 'object' || key === null) throw new ConfigError(`${where} is not a JWK object.`);
  const jwk = key as JsonWebKey & { kid?: unknown; alg?: unknown; use?: unknown };
  if (typeof jwk.d !== 'string') throw new ConfigError(`${where} is not a private key (no "d").`);
  try {
    createPrivateKey({ key: jwk, format: 'jwk' });
  } catch (error) {
    throw new ConfigError(`${where} is not a usable private key (${(error as Error).message}).`);
  }
  const alg = typeof jwk.alg === 'string' ? jwk.alg : ALG_OF[jwk.kty ?? ''];
  const allowed = jwk.kty === 'OKP' ? jwk.crv === 'Ed25519' && alg === 'EdDSA' : alg === ALG_OF[jwk.kty ?? ''];
  if (!allowed)
    throw new ConfigError(`${where}: use RSA with RS256, Ed25519 with EdDSA or P-256 with ES256 (got ${jwk.kty}).`);
  if (jwk.kty === 'EC' && jwk.crv !== 'P-256') throw new ConfigError(`${where}: an EC key must be on P-256.`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new ConfigError(`${where}: "use" must be "sig".`);
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') throw new ConfigError(`${where}: "kid" must be a string.`);
  return { ...jwk, kid: jwk.kid ?? randomBytes(8).toString('hex'), alg, d: jwk.d } as SigningJwk;
}

function generateKeys(): SigningJwk[] {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' } as SigningJwk,
    { ...ed, kid: randomBytes(8).toString('hex'), alg: 'EdDSA', use: 'sig' } as SigningJwk,
  ];
}

let testKeySet: SigningJwk[] | undefined;
/** Tests build many configurations; one RSA key pair per process keeps them fast. */
function testKeys(): SigningJwk[] {
  testKeySet ??= generateKeys();
  return testKeySet;
}

/** Development only: keys generated once and kept in the data directory (mode 0600), like secrets.json. */
function writeDevKeys(dataDir: string, file: string): SigningJwk[] {
  const keys = generateKeys();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify({ keys }, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return keys;
}
