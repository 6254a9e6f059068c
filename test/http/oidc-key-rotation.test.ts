import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { signUp } from '../support/app.js';
import { finish, signInAndConsent, startAuthorization } from '../support/oidc-browser.js';
import { startOidcServer, webClient, type OidcTestServer } from '../support/oidc.js';

/** A private RS256 key as OIDC_SIGNING_KEYS_FILE holds it (docs/oidc.md shows the same command). */
function rsaKey(): JWK {
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as JWK;
  return { ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function keyFile(keys: JWK[]): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'twofold-keys-')), 'oidc-keys.json');
  writeFileSync(file, JSON.stringify({ keys }), { mode: 0o600 });
  return file;
}

/** Signs a person in to a fresh client of `server` and returns the ID token. */
async function idTokenFrom(server: OidcTestServer): Promise<string> {
  const { rp } = await webClient(server);
  const started = await startAuthorization(server.issuer, rp, { scope: 'openid' });
  const tokens = await finish(rp, started, await signInAndConsent(started, await signUp(server.app)));
  return tokens.id_token!;
}

/**
 * Key rotation (docs/oidc.md): the first key of the file signs, the others stay in the JWKS, so an ID
 * token signed before the new key came first still verifies until its key is removed.
 */
describe('OpenID Connect signing key rotation', () => {
  const servers: OidcTestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  it('a new first key signs, the old one is still published and verifies what it signed, until removed', async () => {
    const [oldKey, newKey] = [rsaKey(), rsaKey()];
    const before = await startOidcServer('sqlite', { OIDC_SIGNING_KEYS_FILE: keyFile([oldKey]) });
    servers.push(before);
    const oldToken = await idTokenFrom(before);
    expect(decodeProtectedHeader(oldToken).kid).toBe(oldKey.kid);

    const during = await startOidcServer('sqlite', { OIDC_SIGNING_KEYS_FILE: keyFile([newKey, oldKey]) });
    servers.push(during);
    const jwks = (await (await fetch(`${during.issuer}/oidc/jwks`)).json()) as { keys: JWK[] };
    expect(jwks.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([oldKey.kid, newKey.kid]));
    expect(JSON.stringify(jwks)).not.toContain(`"d":`);
    const newToken = await idTokenFrom(during);
    expect(decodeProtectedHeader(newToken).kid).toBe(newKey.kid);
    // The relying party verifies the old token against the JWKS it now fetches.
    await expect(jwtVerify(oldToken, createLocalJWKSet(jwks))).resolves.toBeTruthy();

    const after = await startOidcServer('sqlite', { OIDC_SIGNING_KEYS_FILE: keyFile([newKey]) });
    servers.push(after);
    const trimmed = (await (await fetch(`${after.issuer}/oidc/jwks`)).json()) as { keys: JWK[] };
    expect(trimmed.keys.map((key) => key.kid)).not.toContain(oldKey.kid);
    await expect(jwtVerify(oldToken, createLocalJWKSet(trimmed))).rejects.toThrow();
  });
});
