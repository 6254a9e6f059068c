import { createServer } from 'node:net';
import * as oidc from 'openid-client';
import type { Dialect } from '../../src/db/create-database.js';
import { createAuditService } from '../../src/modules/audit/audit.service.js';
import { createAuditRepository } from '../../src/modules/audit/audit.repository.js';
import { createClientsRepository } from '../../src/modules/oidc/clients.repository.js';
import { createClientsService, type ClientsService, type NewClient } from '../../src/modules/oidc/clients.service.js';
import { buildTestApp, type TestApp } from './app.js';
import { REDIRECT_URI } from './oidc-browser.js';

export const CLI_ACTOR = { by: 'cli', ip: null, userAgent: 'twofold-cli' } as const;

/** A free TCP port: the issuer (PUBLIC_URL) must name the port before the server is built. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface OidcTestServer extends TestApp {
  issuer: string;
  /** The clients service on the same database (what `twofold client …` calls). */
  clients: ClientsService;
  /** openid-client's configuration for a client of this server (plain http allowed: a test server). */
  relyingParty(clientId: string, secret?: string): Promise<oidc.Configuration>;
}

/**
 * A Twofold server listening on a real port, its issuer that address (openid-client checks it), or
 * a path under it with `OIDC_ISSUER_PATH` (a test-only key, not a setting).
 */
export async function startOidcServer(dialect: Dialect, env: Record<string, string> = {}): Promise<OidcTestServer> {
  const port = await freePort();
  const { OIDC_ISSUER_PATH: path = '', ...rest } = env;
  const origin = `http://127.0.0.1:${port}`;
  const issuer = `${origin}${path}`;
  const test = await buildTestApp({
    dialect,
    env: { PUBLIC_URL: origin, OIDC_ISSUER: issuer, OIDC_SCOPES: 'reports:read,reports:write', ...rest },
  });
  await test.app.listen({ port, host: '127.0.0.1' });
  const { db } = test.database.handle;
  const clients = createClientsService({
    repository: createClientsRepository(db),
    audit: createAuditService({ repository: createAuditRepository(db), clock: test.clock, log: test.app.log }),
    clock: test.clock,
    apiScopes: test.config.oidc.apiScopes,
  });
  return {
    ...test,
    issuer,
    clients,
    relyingParty: (clientId, secret) =>
      oidc.discovery(new URL(issuer), clientId, undefined, secret ? oidc.ClientSecretBasic(secret) : oidc.None(), {
        execute: [oidc.allowInsecureRequests],
      }),
  };
}

/**
 * A confidential web client of `server` with the test browser's redirect URI (what `twofold client create`
 * makes), and openid-client's configuration for it.
 */
export async function webClient(
  server: OidcTestServer,
  options: Partial<Omit<NewClient, 'public'>> = {},
): Promise<{ clientId: string; rp: oidc.Configuration }> {
  const created = await server.clients.create(
    {
      name: 'Wiki',
      redirectUris: [REDIRECT_URI],
      grants: ['authorization_code'],
      scopes: ['openid'],
      skipConsent: true,
      ...options,
      public: false,
    },
    CLI_ACTOR,
  );
  const clientId = created.client.client_id;
  return { clientId, rp: await server.relyingParty(clientId, created.secret!) };
}
