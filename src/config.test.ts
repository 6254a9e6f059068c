import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const SECRETS = { JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };

describe('loadConfig', () => {
  it('uses the embedded defaults in development', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'twofold-config-'));
    const config = loadConfig({ TWOFOLD_DATA_DIR: dataDir });
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: `sqlite:${path.join(dataDir, 'twofold.db')}`,
    });
    expect(config.jwt).toMatchObject({ alg: 'HS256', accessTokenTtlSeconds: 600, refreshTokenTtlSeconds: 2592000 });
    expect(config.productWriteRoles).toEqual(['user', 'admin']);
    expect(config.argon2).toEqual({ memoryKiB: 19456, iterations: 2, parallelism: 1 });
    expect(config.emailCodesForAnyone).toBe(false);
  });

  it('generates development secrets once, keeps them in the data directory with mode 0600', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'twofold-config-'));
    const first = loadConfig({ TWOFOLD_DATA_DIR: dataDir, JWT_ALG: 'EdDSA' });
    const second = loadConfig({ TWOFOLD_DATA_DIR: dataDir, JWT_ALG: 'EdDSA' });
    const file = path.join(dataDir, 'secrets.json');
    expect(first.secretsFile).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(second.jwt.secret).equals(Buffer.from(first.jwt.secret))).toBe(true);
    expect(second.encryptionKey.equals(first.encryptionKey)).toBe(true);
    expect(second.jwt.privateKeyPem).toBe(first.jwt.privateKeyPem);
    expect(readFileSync(file, 'utf8')).toContain('PRIVATE KEY');
  });

  it('refuses to start in production without JWT_SECRET and ENCRYPTION_KEY, naming both', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET.*ENCRYPTION_KEY/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRETS.JWT_SECRET })).toThrow(/ENCRYPTION_KEY/);
    expect(() =>
      loadConfig({ NODE_ENV: 'production', JWT_ALG: 'EdDSA', ENCRYPTION_KEY: SECRETS.ENCRYPTION_KEY }),
    ).toThrow(/JWT_PRIVATE_KEY/);
  });

  it('production with JWT_ALG=EdDSA and a private key needs no JWT_SECRET', () => {
    const key = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const config = loadConfig({
      NODE_ENV: 'production',
      JWT_ALG: 'EdDSA',
      JWT_PRIVATE_KEY: key,
      ENCRYPTION_KEY: SECRETS.ENCRYPTION_KEY,
    });
    expect(config.jwt.alg).toBe('EdDSA');
    expect(config.jwt.privateKeyPem).toBe(key.trim());
    // A JWT_SECRET given anyway is still checked.
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        JWT_ALG: 'EdDSA',
        JWT_PRIVATE_KEY: key,
        ENCRYPTION_KEY: SECRETS.ENCRYPTION_KEY,
        JWT_SECRET: 'short',
      }),
    ).toThrow(/JWT_SECRET/);
  });

  it('starts in production with explicit secrets and listens on all interfaces', () => {
    const config = loadConfig({ NODE_ENV: 'production', ...SECRETS });
    expect(config.host).toBe('0.0.0.0');
    expect(config.secretsFile).toBeUndefined();
  });

  it.each([
    [{ JWT_SECRET: 'short' }, /JWT_SECRET must be at least 32/],
    [{ ENCRYPTION_KEY: 'c2hvcnQ=' }, /ENCRYPTION_KEY must be 32 bytes/],
    [{ JWT_ALG: 'RS256' }, /JWT_ALG must be HS256 or EdDSA/],
    [{ PORT: '70000' }, /PORT must be an integer/],
    [{ ACCESS_TOKEN_TTL: '-5' }, /ACCESS_TOKEN_TTL/],
    [{ PRODUCT_WRITE_ROLES: 'owner' }, /PRODUCT_WRITE_ROLES/],
    [{ ARGON2_MEMORY_KIB: '1024' }, /ARGON2_MEMORY_KIB/],
    [{ REQUIRE_EMAIL: 'maybe' }, /REQUIRE_EMAIL/],
    [{ EMAIL_CODES_FOR_ANYONE: 'everyone' }, /EMAIL_CODES_FOR_ANYONE/],
  ])('explains what is wrong with %o', (env, message) => {
    expect(() => loadConfig({ NODE_ENV: 'test', ...SECRETS, ...env })).toThrow(message);
  });

  it('reads durations with units and lists', () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      ...SECRETS,
      ACCESS_TOKEN_TTL: '5m',
      REFRESH_TOKEN_TTL: '7d',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      PRODUCT_WRITE_ROLES: 'admin',
      TRUST_PROXY: 'true',
    });
    expect(config.jwt.accessTokenTtlSeconds).toBe(300);
    expect(config.jwt.refreshTokenTtlSeconds).toBe(7 * 86400);
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.productWriteRoles).toEqual(['admin']);
    expect(config.trustProxy).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test', ...SECRETS, EMAIL_CODES_FOR_ANYONE: 'true' }).emailCodesForAnyone).toBe(true);
  });
});
