import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const SECRETS = { JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'twofold-oidc-config-'));
}

function jwksFile(keys: unknown[]): string {
  const file = path.join(tempDir(), 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys }));
  return file;
}

const rsa = (): Record<string, unknown> =>
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Record<string, unknown>;

describe('OpenID Connect settings', () => {
  it('takes the issuer from PUBLIC_URL unless OIDC_ISSUER is set', () => {
    expect(loadConfig({ NODE_ENV: 'test', ...SECRETS, PUBLIC_URL: 'https://id.example.com/' }).oidc.issuer).toBe(
      'https://id.example.com',
    );
    const config = loadConfig({ NODE_ENV: 'test', ...SECRETS, OIDC_ISSUER: 'https://sso.example.com/auth' });
    expect(config.oidc.issuer).toBe('https://sso.example.com/auth');
    expect(() => loadConfig({ NODE_ENV: 'test', ...SECRETS, OIDC_ISSUER: 'https://x.example.com/?a=1' })).toThrow(
      ConfigError,
    );
  });

  it('generates RS256 and EdDSA keys once in development, in the data directory with mode 0600', () => {
    const dataDir = tempDir();
    const first = loadConfig({ TWOFOLD_DATA_DIR: dataDir });
    const second = loadConfig({ TWOFOLD_DATA_DIR: dataDir });
    const file = path.join(dataDir, 'oidc-keys.json');
    expect(first.oidc.signingKeys!.map((key) => key.alg)).toEqual(['RS256', 'EdDSA']);
    expect(second.oidc.signingKeys).toEqual(first.oidc.signingKeys);
    expect(JSON.parse(readFileSync(file, 'utf8')).keys).toHaveLength(2);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('in production, reads OIDC_SIGNING_KEYS_FILE, the first key of an algorithm first; without it the provider is off', () => {
    const production = { NODE_ENV: 'production', ...SECRETS, PUBLIC_URL: 'https://id.example.com' };
    expect(loadConfig(production).oidc.signingKeys).toBeUndefined();
    const [newer, older] = [rsa(), rsa()];
    const config = loadConfig({ ...production, OIDC_SIGNING_KEYS_FILE: jwksFile([newer, older]) });
    expect(config.oidc.signingKeys!.map((key) => [key.n, key.alg])).toEqual([
      [newer.n, 'RS256'],
      [older.n, 'RS256'],
    ]);
  });

  it('refuses unusable key files with a message naming the problem', () => {
    const env = (file: string): Record<string, string> => ({
      NODE_ENV: 'test',
      ...SECRETS,
      OIDC_SIGNING_KEYS_FILE: file,
    });
    const publicOnly = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    expect(() => loadConfig(env('/nonexistent/jwks.json'))).toThrow(/not a readable JSON file/);
    expect(() => loadConfig(env(jwksFile([publicOnly])))).toThrow(/not a private key/);
    expect(() => loadConfig(env(jwksFile([ed])))).toThrow(/RS256/);
    expect(() => loadConfig(env(jwksFile([{ ...rsa(), alg: 'HS256' }])))).toThrow(/RSA with RS256/);
    expect(() =>
      loadConfig({ ...env(jwksFile([rsa()])), NODE_ENV: 'production', PUBLIC_URL: 'http://id.example.com' }),
    ).toThrow(/https/);
  });

  it('reads OIDC_SCOPES as API scope names and refuses malformed ones', () => {
    expect(
      loadConfig({ NODE_ENV: 'test', ...SECRETS, OIDC_SCOPES: 'reports:read, reports:write' }).oidc.apiScopes,
    ).toEqual(['reports:read', 'reports:write']);
    expect(() => loadConfig({ NODE_ENV: 'test', ...SECRETS, OIDC_SCOPES: 'bad"scope' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'test', ...SECRETS, OIDC_SCOPES: 'openid' })).toThrow(ConfigError);
  });
});
