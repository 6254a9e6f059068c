import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import Provider, { type Adapter, type ClientMetadata, type Configuration } from 'oidc-provider';
import { OIDC_SCOPES, type OidcConfig } from '../../config-oidc.js';
import type { Dialect } from '../../db/create-database.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import type { UserRow } from '../accounts/accounts.repository.js';
import type { AuditService } from '../audit/audit.service.js';
import type { BrowserSignOut } from '../sessions/browser-sign-out.js';
import { auditProviderEvents } from './provider-audit.js';
import { endTwofoldSessionOnLogout } from './provider-logout.js';
import { escapeHtml, logoutSource, postLogoutSuccessSource } from './provider-pages.js';
import type { ClientRow, ClientsRepository } from './clients.repository.js';
import { clientSecretMatches } from './clients.service.js';
import { ACR_VALUES } from './interactions.service.js';
import { createOidcAdapterFactory } from './oidc-payloads.repository.js';

/** Where each endpoint lives, under the issuer (the discovery document names them all). */
export const OIDC_ROUTES = {
  authorization: '/oidc/auth',
  token: '/oidc/token',
  jwks: '/oidc/jwks',
  userinfo: '/oidc/me',
  introspection: '/oidc/token/introspection',
  revocation: '/oidc/token/revocation',
  end_session: '/oidc/session/end',
  pushed_authorization_request: '/oidc/request',
} as const;

/** Signature algorithms on offer. No HS256: it needs the client secret in clear, and Twofold keeps only its hash. */
const SIGNING_ALGS = ['RS256', 'EdDSA', 'ES256'] as const;

export interface OidcProviderDeps {
  config: OidcConfig;
  /** Keys for the provider's signed cookies (interaction and session), newest first. */
  cookieKeys: string[];
  db: Kysely<Database>;
  dialect: Dialect;
  clock: Clock;
  clients: Pick<ClientsRepository, 'find'>;
  /** The account a `sub` names (the accounts module's lookup). */
  findUser(id: number): Promise<UserRow | undefined>;
  log: FastifyBaseLogger;
  audit: AuditService;
  /** Ends the Twofold session of the browser that confirmed an RP-initiated logout (the sessions module's). */
  signOutBrowser: BrowserSignOut;
  ttl: { accessTokenSeconds: number; refreshTokenSeconds: number };
}

/** A stored client as oidc-provider's Client metadata (OpenID Connect Dynamic Client Registration 1.0 §2). */
export function clientMetadata(row: ClientRow): ClientMetadata {
  const grantTypes = JSON.parse(row.grant_types) as string[];
  return {
    client_id: row.id,
    client_name: row.name,
    // The SHA-256 of the secret stands where the secret would: the Client's compareClientSecret is
    // replaced below to hash what a client presents, and no feature that needs the secret in clear
    // (HS256, client_secret_jwt, symmetric encryption) is enabled.
    ...(row.secret_hash === null
      ? { token_endpoint_auth_method: 'none' }
      : { client_secret: row.secret_hash, token_endpoint_auth_method: 'client_secret_basic' }),
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    // RP-Initiated Logout 1.0 §3: the provider redirects after logout only to one of these.
    post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris) as string[],
    grant_types: grantTypes,
    response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
    scope: row.scope,
    skip_consent: row.skip_consent === 1,
  };
}

function clientAdapter(clients: Pick<ClientsRepository, 'find'>): Adapter {
  const unsupported = async (): Promise<never> => {
    throw new Error('clients are managed with `twofold client …`, not through the provider');
  };
  return {
    async find(id) {
      const row = await clients.find(id);
      return row && clientMetadata(row);
    },
    upsert: unsupported,
    destroy: unsupported,
    consume: unsupported,
    findByUid: unsupported,
    findByUserCode: unsupported,
    revokeByGrantId: unsupported,
  };
}

export function createOidcProvider(deps: OidcProviderDeps): Provider {
  const { config } = deps;
  if (!config.signingKeys) throw new Error('the OpenID Connect provider needs signing keys');
  const payloads = createOidcAdapterFactory(deps.db, deps.dialect, deps.clock);
  const clients = clientAdapter(deps.clients);

  const configuration: Configuration = {
    adapter: (model: string) => (model === 'Client' ? clients : payloads(model)),
    jwks: { keys: config.signingKeys.map((key) => ({ ...key, use: 'sig' })) as never },
    cookies: {
      keys: deps.cookieKeys,
      // The interaction cookie would be scoped to the page's path (/app/oidc/<uid>); the page's API
      // calls go to /api/oidc/interaction/<uid>, which must receive it (it binds the interaction to
      // this browser). The resume cookie keeps its own path: the provider sets it after these options.
      short: { httpOnly: true, sameSite: 'lax', path: '/api/oidc/interaction/' },
    },
    // OpenID Connect Core 1.0 §2 `acr`: what the interaction step asserts (interactions.service.ts).
    acrValues: [...ACR_VALUES],
    scopes: [...OIDC_SCOPES, ...config.apiScopes],
    // OpenID Connect Core 1.0 §5.4: the claims each scope releases; `roles` is Twofold's own.
    claims: {
      // With `sub`, when and how the person signed in (`auth_time`, RFC 8176 `amr`, `acr`:
      // interactions.service.ts); the
      // provider fills them from its session, not from the account.
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['preferred_username', 'updated_at'],
      email: ['email', 'email_verified'],
      roles: ['roles'],
    },
    async findAccount(_ctx, sub) {
      const id = /^[1-9]\d{0,15}$/.test(sub) ? Number(sub) : undefined;
      const user = id === undefined ? undefined : await deps.findUser(id);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          preferred_username: user.username,
          updated_at: Math.floor(Number(user.updated_at) / 1000),
          ...(user.email ? { email: user.email, email_verified: user.email_verified === 1 } : {}),
          roles: [user.role],
        }),
      };
    },
    extraClientMetadata: {
      properties: ['skip_consent'],
      validator(_ctx, key, value) {
        if (key === 'skip_consent' && typeof value !== 'boolean') throw new Error('skip_consent must be a boolean');
      },
    },
    // A client made with --skip-consent (a first-party application) is granted what it asks for
    // without the consent page; the provider has already refused any scope the client was not given.
    async loadExistingGrant(ctx) {
      const { client, session, params } = ctx.oidc;
      if (!client || !session) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      if (!(client as unknown as { skip_consent?: boolean }).skip_consent || !session.accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      if (typeof params?.scope === 'string') grant.addOIDCScope(params.scope);
      grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    // OAuth 2.1 / RFC 9700 §2.1.2: the authorization code flow only, no implicit or hybrid responses.
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    enabledJWA: {
      idTokenSigningAlgValues: SIGNING_ALGS,
      userinfoSigningAlgValues: SIGNING_ALGS,
      introspectionSigningAlgValues: SIGNING_ALGS,
      authorizationSigningAlgValues: SIGNING_ALGS,
      requestObjectSigningAlgValues: SIGNING_ALGS,
      clientAuthSigningAlgValues: SIGNING_ALGS,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      // OpenID Connect RP-Initiated Logout 1.0, with Twofold's own pages (provider-pages.ts).
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      userinfo: { enabled: true },
    },
    // RFC 9700 §2.1.1 and OAuth 2.1: PKCE (S256 only, oidc-provider's default) for every public client.
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    // RFC 9700 §4.14.2: a refresh token is spent on use; a spent one presented again ends the grant.
    rotateRefreshToken: true,
    routes: OIDC_ROUTES,
    interactions: {
      // The web UI's sign-in and consent page (OidcView), which calls interactions.routes.ts.
      url: (_ctx, interaction) => `/app/oidc/${interaction.uid}`,
    },
    ttl: {
      AccessToken: deps.ttl.accessTokenSeconds,
      ClientCredentials: deps.ttl.accessTokenSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Grant: deps.ttl.refreshTokenSeconds,
      Session: deps.ttl.refreshTokenSeconds,
      RefreshToken: deps.ttl.refreshTokenSeconds,
    },
    // Errors are answered as the protocol says (JSON for the token endpoints); the HTML error page
    // of the browser endpoints shows the error code only, never internal detail.
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!doctype html><meta charset="utf-8"><title>Sign-in error</title><h1>Sign-in error</h1><p>${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`;
    },
  };

  const provider = new Provider(config.issuer, configuration);
  // The routes set Host and X-Forwarded-* from the issuer and X-Forwarded-For from Fastify's own
  // resolution of the caller (oidc.routes.ts): the provider reads its addresses from them.
  provider.proxy = true;
  // The stored value is the secret's SHA-256, never the secret (see clientMetadata).
  (
    provider.Client.prototype as unknown as { compareClientSecret(actual: string): Promise<boolean> }
  ).compareClientSecret = async function compareClientSecret(this: { clientSecret?: string }, actual: string) {
    return clientSecretMatches(this.clientSecret ?? null, actual);
  };
  auditProviderEvents(provider, deps.audit);
  endTwofoldSessionOnLogout(provider, { signOut: deps.signOutBrowser, audit: deps.audit, log: deps.log });
  provider.on('server_error', (_ctx, error) => deps.log.error({ err: error }, 'OpenID Connect provider error'));
  return provider;
}
