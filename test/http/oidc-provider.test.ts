import { request as httpRequest } from 'node:http';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testDialects } from '../support/databases.js';
import { CLI_ACTOR, startOidcServer, type OidcTestServer } from '../support/oidc.js';

const dialects = await testDialects();

/**
 * The OpenID Connect provider seen by a relying party nobody here wrote: panva's openid-client
 * (OpenID Certified) against a server listening on a real port, on every database.
 */
describe.each(dialects)('OpenID Connect provider with openid-client (%s)', (dialect) => {
  let server: OidcTestServer;
  let machine: { client_id: string; secret: string };

  beforeAll(async () => {
    server = await startOidcServer(dialect);
    const created = await server.clients.create(
      {
        name: 'Report robot',
        redirectUris: [],
        public: false,
        grants: ['client_credentials'],
        scopes: ['reports:read'],
        skipConsent: false,
      },
      CLI_ACTOR,
    );
    machine = { client_id: created.client.client_id, secret: created.secret! };
  });
  afterAll(async () => server.close());

  it('publishes its discovery document at the issuer: code flow with S256 PKCE only, no HS256 and no implicit', async () => {
    const rp = await server.relyingParty(machine.client_id, machine.secret);
    const metadata = rp.serverMetadata();
    expect(metadata.issuer).toBe(server.issuer);
    expect(metadata.token_endpoint).toBe(`${server.issuer}/oidc/token`);
    expect(metadata.jwks_uri).toBe(`${server.issuer}/oidc/jwks`);
    expect(metadata.userinfo_endpoint).toBe(`${server.issuer}/oidc/me`);
    expect(metadata.introspection_endpoint).toBe(`${server.issuer}/oidc/token/introspection`);
    expect(metadata.revocation_endpoint).toBe(`${server.issuer}/oidc/token/revocation`);
    expect(metadata.end_session_endpoint).toBe(`${server.issuer}/oidc/session/end`);
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']),
    );
    expect(metadata.grant_types_supported).not.toContain('implicit');
    expect(metadata.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'EdDSA']));
    expect(JSON.stringify(metadata)).not.toContain('HS256');
    expect(metadata.token_endpoint_auth_methods_supported).not.toContain('client_secret_jwt');
    expect(metadata.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'profile', 'email', 'roles', 'offline_access', 'reports:read']),
    );
  });

  it('builds every address from the issuer, never from the Host or X-Forwarded-* headers a client sends', async () => {
    // A forged Host would otherwise put another site's endpoints into the discovery document, which a
    // shared cache could keep for everyone (OWASP WSTG-INPV-17, Host header injection).
    const forged = await new Promise<string>((resolve, reject) => {
      const url = new URL(`${server.issuer}/.well-known/openid-configuration`);
      const req = httpRequest(
        url,
        { headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const metadata = JSON.parse(forged) as Record<string, unknown>;
    expect(metadata.token_endpoint).toBe(`${server.issuer}/oidc/token`);
    expect(metadata.authorization_endpoint).toBe(`${server.issuer}/oidc/auth`);
    expect(forged).not.toContain('evil.example');
  });

  it('publishes the public halves of its RS256 and EdDSA keys, never a private part', async () => {
    const response = await fetch(`${server.issuer}/oidc/jwks`);
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys.map((key) => key.alg)).toEqual(expect.arrayContaining(['RS256', 'EdDSA']));
    for (const key of keys) {
      for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(privatePart);
    }
  });

  it('grants client credentials with an allowed scope; introspection says active until the token is revoked', async () => {
    const rp = await server.relyingParty(machine.client_id, machine.secret);
    const tokens = await oidc.clientCredentialsGrant(rp, { scope: 'reports:read' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.scope).toBe('reports:read');
    expect(tokens.refresh_token).toBeUndefined();

    const active = await oidc.tokenIntrospection(rp, tokens.access_token);
    expect(active).toMatchObject({ active: true, client_id: machine.client_id, scope: 'reports:read' });

    // The audit trail names the client and the grant, never the token (written just after the answer).
    await vi.waitFor(async () => {
      const issued = await server.database.handle.db
        .selectFrom('audit_events')
        .select(['detail', 'user_id'])
        .where('type', '=', 'oidc.token_issued')
        .execute();
      expect(issued.map((event) => JSON.parse(event.detail))).toContainEqual({
        client_id: machine.client_id,
        grant_type: 'client_credentials',
      });
      expect(JSON.stringify(issued)).not.toContain(tokens.access_token);
    });

    await oidc.tokenRevocation(rp, tokens.access_token);
    const revoked = await oidc.tokenIntrospection(rp, tokens.access_token);
    expect(revoked.active).toBe(false);
  });

  it('refuses a scope the client was not given with invalid_scope', async () => {
    const rp = await server.relyingParty(machine.client_id, machine.secret);
    await expect(oidc.clientCredentialsGrant(rp, { scope: 'reports:write' })).rejects.toMatchObject({
      error: 'invalid_scope',
    });
  });

  it('answers a wrong secret, and an unknown client, with invalid_client', async () => {
    const wrong = await server.relyingParty(machine.client_id, `${machine.secret}x`);
    // RFC 6749 §5.2: a client that authenticated with HTTP Basic gets 401 and a WWW-Authenticate challenge.
    await expect(oidc.clientCredentialsGrant(wrong, { scope: 'reports:read' })).rejects.toMatchObject({
      status: 401,
      cause: [{ scheme: 'basic', parameters: { error: 'invalid_client' } }],
    });
    const unknown = await server.relyingParty('no-such-client', machine.secret);
    await expect(oidc.clientCredentialsGrant(unknown)).rejects.toMatchObject({ status: 401 });
  });

  it('reads form-encoded bodies itself: a raw token request works, and a JSON body is refused by the protocol, not by Fastify', async () => {
    const form = await fetch(`${server.issuer}/oidc/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${machine.client_id}:${machine.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'reports:read' }),
    });
    expect(form.status).toBe(200);
    expect(form.headers.get('cache-control')).toBe('no-store');
    const json = await fetch(`${server.issuer}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('stops a deleted client at once', async () => {
    const created = await server.clients.create(
      {
        name: 'Short-lived',
        redirectUris: [],
        public: false,
        grants: ['client_credentials'],
        scopes: ['reports:read'],
        skipConsent: false,
      },
      CLI_ACTOR,
    );
    const rp = await server.relyingParty(created.client.client_id, created.secret!);
    await oidc.clientCredentialsGrant(rp);
    await server.clients.delete(created.client.client_id, CLI_ACTOR);
    await expect(oidc.clientCredentialsGrant(rp)).rejects.toMatchObject({
      status: 401,
      cause: [{ parameters: { error: 'invalid_client' } }],
    });
  });
});

describe('OpenID Connect provider under an issuer with a path', () => {
  it('serves discovery and every endpoint under that path, and nothing at the root', async () => {
    // The issuer's path is where the provider lives; PUBLIC_URL stays the server's own address.
    const prefixed = await startOidcServer('sqlite', { OIDC_ISSUER_PATH: '/auth' });
    try {
      const rp = await prefixed.relyingParty('unknown-client', 'secret');
      const metadata = rp.serverMetadata();
      expect(metadata.issuer).toBe(`${prefixed.issuer}`);
      expect(metadata.token_endpoint).toBe(`${prefixed.issuer}/oidc/token`);
      const jwks = await fetch(metadata.jwks_uri!);
      expect(jwks.status).toBe(200);
      await expect(oidc.clientCredentialsGrant(rp)).rejects.toMatchObject({ status: 401 });
      const root = await fetch(`${new URL(prefixed.issuer).origin}/.well-known/openid-configuration`);
      expect(root.status).toBe(404);
    } finally {
      await prefixed.close();
    }
  });
});
