import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { errors } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcAdapterFactory } from '../../src/modules/oidc/oidc-payloads.repository.js';
import { testDialects } from '../support/databases.js';
import { CLI_ACTOR, startOidcServer, type OidcTestServer } from '../support/oidc.js';

const dialects = await testDialects();

describe.each(dialects)('OpenID Connect provider security (%s)', (dialect) => {
  let server: OidcTestServer;

  beforeAll(async () => {
    server = await startOidcServer(dialect);
  });
  afterAll(async () => server.close());

  async function machineClient(): Promise<{ id: string; secret: string }> {
    const { client, secret } = await server.clients.create(
      {
        name: 'Robot',
        redirectUris: [],
        public: false,
        grants: ['client_credentials'],
        scopes: ['reports:read'],
        skipConsent: false,
      },
      CLI_ACTOR,
    );
    return { id: client.client_id, secret: secret! };
  }

  it('gives every client an id the command line takes as an argument, never one starting with "-"', async () => {
    // A base64url id starts with "-" once in 64: `twofold client delete -x…` then fails as an unknown option.
    const ids = await Promise.all(Array.from({ length: 300 }, () => machineClient().then((client) => client.id)));
    expect(new Set(ids).size).toBe(300);
    expect(ids.filter((id) => !/^[A-Za-z0-9]/.test(id))).toEqual([]);
  });

  it('keeps only the SHA-256 of a client secret: the stored value does not authenticate, the secret does', async () => {
    const { id, secret } = await machineClient();
    const row = await server.database.handle.db
      .selectFrom('oidc_clients')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));

    // Someone who read the table presents what is stored: refused.
    const withHash = await server.relyingParty(id, row.secret_hash!);
    await expect(oidc.clientCredentialsGrant(withHash)).rejects.toMatchObject({ status: 401 });
    const withSecret = await server.relyingParty(id, secret);
    await expect(oidc.clientCredentialsGrant(withSecret)).resolves.toHaveProperty('access_token');
  });

  it('rotating a secret stops the old one at once and audits the change; a public client has none to rotate', async () => {
    const { id, secret } = await machineClient();
    const rotated = await server.clients.rotateSecret(id, CLI_ACTOR);
    expect(rotated.client_secret).not.toBe(secret);
    await expect(oidc.clientCredentialsGrant(await server.relyingParty(id, secret))).rejects.toMatchObject({
      status: 401,
    });
    await expect(
      oidc.clientCredentialsGrant(await server.relyingParty(id, rotated.client_secret)),
    ).resolves.toHaveProperty('access_token');
    const events = await server.database.handle.db
      .selectFrom('audit_events')
      .select(['type', 'detail'])
      .where('type', 'like', 'oidc_client.%')
      .execute();
    const rotation = events.find((event) => event.type === 'oidc_client.secret_rotated');
    expect(JSON.parse(rotation!.detail)).toMatchObject({ by: 'cli', client_id: id });
    expect(JSON.stringify(events)).not.toContain(rotated.client_secret);

    const spa = await server.clients.create(
      { name: 'SPA', redirectUris: ['http://localhost:5173/cb'], public: true, skipConsent: false },
      CLI_ACTOR,
    );
    expect(spa.secret).toBeNull();
    await expect(server.clients.rotateSecret(spa.client.client_id, CLI_ACTOR)).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });

  it('refuses clients that would weaken the protocol: a public client_credentials client, a redirect URI with a fragment, an unknown scope', async () => {
    const base = { name: 'Bad', redirectUris: [], public: false, skipConsent: false };
    await expect(
      server.clients.create(
        { ...base, public: true, grants: ['client_credentials'], scopes: ['reports:read'] },
        CLI_ACTOR,
      ),
    ).rejects.toMatchObject({ code: 'validation_failed', fields: { grant: expect.any(String) } });
    await expect(
      server.clients.create({ ...base, redirectUris: ['https://app.example.com/cb#x'] }, CLI_ACTOR),
    ).rejects.toMatchObject({ fields: { redirect_uri: expect.stringContaining('fragment') } });
    await expect(
      server.clients.create({ ...base, grants: ['client_credentials'], scopes: ['admin:everything'] }, CLI_ACTOR),
    ).rejects.toMatchObject({ fields: { scope: expect.stringContaining('OIDC_SCOPES') } });
    await expect(
      server.clients.create({ ...base, grants: ['client_credentials'], scopes: [] }, CLI_ACTOR),
    ).rejects.toMatchObject({ fields: { scope: expect.any(String) } });
  });

  it('requires S256 PKCE of a public client at the authorization endpoint (RFC 9700 §2.1.1), and never redirects to an unregistered URI', async () => {
    const redirectUri = 'http://localhost:5173/callback';
    const { client } = await server.clients.create(
      { name: 'SPA', redirectUris: [redirectUri], public: true, skipConsent: false },
      CLI_ACTOR,
    );
    const authorize = (params: Record<string, string>): Promise<Response> =>
      fetch(
        `${server.issuer}/oidc/auth?${new URLSearchParams({
          client_id: client.client_id,
          redirect_uri: redirectUri,
          response_type: 'code',
          scope: 'openid',
          state: 'st',
          ...params,
        })}`,
        { redirect: 'manual' },
      );
    const errorOf = (response: Response): string | null =>
      new URL(response.headers.get('location')!).searchParams.get('error');

    const withoutPkce = await authorize({});
    expect(withoutPkce.headers.get('location')).toMatch(/^http:\/\/localhost:5173\/callback\?/);
    expect(errorOf(withoutPkce)).toBe('invalid_request');
    const plain = await authorize({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    expect(errorOf(plain)).toBe('invalid_request');

    const verifier = oidc.randomPKCECodeVerifier();
    const withPkce = await authorize({
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    expect(withPkce.status).toBe(303);
    // The sign-in step: the web UI's page for this interaction (not built yet, docs/oidc.md).
    expect(withPkce.headers.get('location')).toMatch(/^\/app\/oidc\/[\w-]+$/);

    const elsewhere = await authorize({ redirect_uri: 'https://evil.example.com/cb' });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers.get('location')).toBeNull();
  });

  it('spends a single-use artifact once: of two parallel consumptions one wins, the other ends the whole grant', async () => {
    const adapterFor = createOidcAdapterFactory(server.database.handle.db, dialect, server.clock);
    const codes = adapterFor('AuthorizationCode');
    const tokens = adapterFor('AccessToken');
    const grants = adapterFor('Grant');
    await grants.upsert('grant-1', { jti: 'grant-1', kind: 'Grant' }, 600);
    await codes.upsert('code-1', { jti: 'code-1', kind: 'AuthorizationCode', grantId: 'grant-1' }, 60);
    await tokens.upsert('token-1', { jti: 'token-1', kind: 'AccessToken', grantId: 'grant-1' }, 600);

    const results = await Promise.allSettled([codes.consume('code-1'), codes.consume('code-1')]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const [refused] = results.filter((result) => result.status === 'rejected');
    expect(refused!.reason).toBeInstanceOf(errors.InvalidGrant);
    // RFC 6749 §4.1.2: what the code gave (and the grant) is revoked.
    expect(await tokens.find('token-1')).toBeUndefined();
    expect(await grants.find('grant-1')).toBeUndefined();
  });

  it('forgets stored models when they expire, and consume() marks them consumed', async () => {
    const sessions = createOidcAdapterFactory(server.database.handle.db, dialect, server.clock)('Session');
    await sessions.upsert('s-1', { jti: 's-1', uid: 'uid-1', kind: 'Session' }, 60);
    expect(await sessions.findByUid('uid-1')).toMatchObject({ jti: 's-1' });
    await sessions.consume('s-1');
    expect(await sessions.find('s-1')).toHaveProperty('consumed');
    server.clock.advance(61_000);
    expect(await sessions.find('s-1')).toBeUndefined();
    expect(await sessions.findByUid('uid-1')).toBeUndefined();
  });
});

describe('OpenID Connect token endpoint rate limit', () => {
  it("limits each client's token requests (RATE_LIMIT_TOKEN), wrong secrets included, without slowing other clients", async () => {
    const server = await startOidcServer('sqlite', { RATE_LIMIT_TOKEN: '3' });
    try {
      const machine = async (): Promise<{ id: string; secret: string }> => {
        const { client, secret } = await server.clients.create(
          {
            name: 'Robot',
            redirectUris: [],
            public: false,
            grants: ['client_credentials'],
            scopes: ['reports:read'],
            skipConsent: false,
          },
          CLI_ACTOR,
        );
        return { id: client.client_id, secret: secret! };
      };
      const [a, b] = [await machine(), await machine()];
      const post = (id: string, secret: string): Promise<Response> =>
        fetch(`${server.issuer}/oidc/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
          },
          body: 'grant_type=client_credentials',
        });
      expect((await post(a.id, 'guess')).status).toBe(401);
      expect((await post(a.id, a.secret)).status).toBe(200);
      expect((await post(a.id, a.secret)).status).toBe(200);
      const limited = await post(a.id, a.secret);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await limited.json()).toMatchObject({ error: 'too_many_attempts' });
      expect((await post(b.id, b.secret)).status).toBe(200);
      server.clock.advance(120_000);
      expect((await post(a.id, a.secret)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
