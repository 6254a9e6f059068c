import type { AuditContext, AuditService } from '../audit/audit.service.js';
import type { Clock } from '../../lib/clock.js';
import { constantTimeEqual, randomHexId, randomToken, sha256Hex } from '../../lib/crypto.js';
import { AppError, validationError } from '../../lib/errors.js';
import { OIDC_SCOPES } from '../../config-oidc.js';
import type { ClientRow, ClientsRepository } from './clients.repository.js';

export const CLIENT_GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type ClientGrant = (typeof CLIENT_GRANTS)[number];

export interface NewClient {
  name: string;
  redirectUris: string[];
  /** Where an RP-initiated logout may return (RP-Initiated Logout 1.0 §3); default none. */
  postLogoutRedirectUris?: string[];
  /** No secret: a browser or native app (RFC 6749 §2.1), which must use PKCE. */
  public: boolean;
  /** Default: authorization_code and refresh_token. */
  grants?: ClientGrant[];
  /** Default: openid profile email (and offline_access when the client may refresh). */
  scopes?: string[];
  skipConsent: boolean;
}

export interface ClientView {
  client_id: string;
  name: string;
  public: boolean;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  scope: string;
  skip_consent: boolean;
  created_at: string;
}

/** Who changes a client, for the audit trail: an administrator's id or the command line. */
export type ClientActor = AuditContext & { by: number | 'cli' };

export interface ClientsService {
  /** The new client, and its secret, shown this once (null for a public client). */
  create(input: NewClient, actor: ClientActor): Promise<{ client: ClientView; secret: string | null }>;
  list(): Promise<ClientView[]>;
  find(id: string): Promise<ClientRow | undefined>;
  delete(id: string, actor: ClientActor): Promise<void>;
  rotateSecret(id: string, actor: ClientActor): Promise<{ client_id: string; client_secret: string }>;
}

/**
 * Compares a presented client secret with the stored SHA-256 in constant time (RFC 6749 §2.3.1 leaves
 * the storage to the server; OWASP: never store a secret in a form that can be read back).
 */
export function clientSecretMatches(secretHash: string | null, presented: string): boolean {
  return secretHash !== null && constantTimeEqual(secretHash, sha256Hex(presented));
}

export function presentClient(row: ClientRow): ClientView {
  return {
    client_id: row.id,
    name: row.name,
    public: row.secret_hash === null,
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris) as string[],
    grant_types: JSON.parse(row.grant_types) as string[],
    scope: row.scope,
    skip_consent: row.skip_consent === 1,
    created_at: new Date(Number(row.created_at)).toISOString(),
  };
}

/** A redirect URI is an absolute URL without a fragment (RFC 6749 §3.1.2). */
function checkRedirectUri(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `"${uri}" is not an absolute URL`;
  }
  if (url.hash || uri.includes('#')) return `"${uri}" must not have a fragment (RFC 6749 §3.1.2)`;
  // The provider registers every client as a web application (OpenID Connect Registration 1.0 §2,
  // `application_type` web): it refuses any other scheme at the first sign-in, so say so now.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${uri}" must be an http or https address`;
  return undefined;
}

/** Hosts that never leave the machine: plain http to them is no eavesdropper's (RFC 8252 §7.3, RFC 9700 §2.1). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A post-logout redirect URI: a redirect URI's rules, and a web address (the provider takes no other for a web
 * client), over https unless on this machine: the browser carries the logout's `state` there.
 */
function checkPostLogoutUri(uri: string): string | undefined {
  const problem = checkRedirectUri(uri);
  if (problem) return problem;
  const url = new URL(uri);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) return undefined;
  return `"${uri}" must use https (http only for localhost, 127.0.0.1 or [::1])`;
}

export function createClientsService(deps: {
  repository: ClientsRepository;
  audit: AuditService;
  clock: Clock;
  /** OIDC_SCOPES: the API scopes a client may be given beside the OpenID Connect ones. */
  apiScopes: readonly string[];
}): ClientsService {
  const { repository, audit, clock } = deps;
  const knownScopes = new Set<string>([...OIDC_SCOPES, ...deps.apiScopes]);

  function validate(input: NewClient): { grants: ClientGrant[]; scopes: string[] } {
    const fields: Record<string, string> = {};
    const name = input.name.trim();
    if (name.length === 0 || name.length > 255) fields.name = 'must be 1 to 255 characters';
    const grants: ClientGrant[] = [...new Set(input.grants ?? (['authorization_code', 'refresh_token'] as const))];
    const interactive = grants.includes('authorization_code');
    if (grants.includes('refresh_token') && !interactive)
      fields.grant = 'refresh_token needs authorization_code (a refresh token comes from a sign-in)';
    if (input.public && grants.includes('client_credentials'))
      fields.grant = 'a public client has no secret, so it cannot use client_credentials (RFC 6749 §4.4)';
    const uriProblems = input.redirectUris.map(checkRedirectUri).filter((problem) => problem !== undefined);
    if (uriProblems.length > 0) fields.redirect_uri = uriProblems.join('; ');
    else if (interactive && input.redirectUris.length === 0)
      fields.redirect_uri = 'at least one is needed for the authorization_code grant';
    else if (!interactive && input.redirectUris.length > 0)
      fields.redirect_uri = 'only a client with the authorization_code grant has redirect URIs';
    const postLogoutUris = input.postLogoutRedirectUris ?? [];
    const postLogoutProblems = postLogoutUris.map(checkPostLogoutUri).filter((problem) => problem !== undefined);
    if (postLogoutProblems.length > 0) fields.post_logout_redirect_uri = postLogoutProblems.join('; ');
    else if (!interactive && postLogoutUris.length > 0)
      fields.post_logout_redirect_uri = 'only a client with the authorization_code grant signs people in and out';
    const scopes = [
      ...new Set(
        input.scopes ??
          (interactive
            ? ['openid', 'profile', 'email', ...(grants.includes('refresh_token') ? ['offline_access'] : [])]
            : []),
      ),
    ];
    // An empty list would lift oidc-provider's per-client scope check altogether, so every client has one.
    if (scopes.length === 0) fields.scope = 'at least one is needed (a client_credentials client asks for API scopes)';
    const unknown = scopes.filter((scope) => !knownScopes.has(scope));
    if (unknown.length > 0)
      fields.scope = `unknown: ${unknown.join(', ')} (API scopes must be listed in OIDC_SCOPES first)`;
    if (Object.keys(fields).length > 0) throw validationError(fields, 'The client is not valid.');
    return { grants, scopes };
  }

  async function rowOrNotFound(id: string): Promise<ClientRow> {
    const row = await repository.find(id);
    if (!row) throw new AppError('not_found', { message: `No client with id "${id}".` });
    return row;
  }

  return {
    async create(input, actor) {
      const { grants, scopes } = validate(input);
      const nowMs = clock.now().getTime();
      const secret = input.public ? null : randomToken(32);
      const row: ClientRow = {
        // 144 bits, and an argument `twofold client delete <client_id>` can take as it is.
        id: randomHexId(18),
        name: input.name.trim(),
        secret_hash: secret === null ? null : sha256Hex(secret),
        redirect_uris: JSON.stringify([...new Set(input.redirectUris)]),
        post_logout_redirect_uris: JSON.stringify([...new Set(input.postLogoutRedirectUris ?? [])]),
        grant_types: JSON.stringify(grants),
        scope: scopes.join(' '),
        skip_consent: input.skipConsent ? 1 : 0,
        created_at: nowMs,
        updated_at: nowMs,
      };
      await repository.insert(row);
      const { by, ...context } = actor;
      await audit.record({
        ...context,
        type: 'oidc_client.created',
        userId: null,
        detail: { by, client_id: row.id, name: row.name, public: secret === null },
      });
      return { client: presentClient(row), secret };
    },
    list: async () => (await repository.list()).map(presentClient),
    find: (id) => repository.find(id),
    async delete(id, actor) {
      const row = await rowOrNotFound(id);
      await repository.delete(id);
      const { by, ...context } = actor;
      await audit.record({
        ...context,
        type: 'oidc_client.deleted',
        userId: null,
        detail: { by, client_id: id, name: row.name },
      });
    },
    async rotateSecret(id, actor) {
      const row = await rowOrNotFound(id);
      const secret = randomToken(32);
      if (!(await repository.replaceSecret(id, sha256Hex(secret), clock.now().getTime())))
        throw new AppError('validation_failed', {
          message: `The client "${id}" is public: it has no secret to rotate.`,
          fields: { client_id: 'is a public client' },
        });
      const { by, ...context } = actor;
      await audit.record({
        ...context,
        type: 'oidc_client.secret_rotated',
        userId: null,
        detail: { by, client_id: id, name: row.name },
      });
      return { client_id: id, client_secret: secret };
    },
  };
}
