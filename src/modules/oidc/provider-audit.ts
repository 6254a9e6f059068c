import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditService, AuditType } from '../audit/audit.service.js';

/**
 * The person a request acted for, when the provider knows one (`sub` is Twofold's user id): the
 * account it loaded, or the one of the token or grant it handled (a revocation loads no account),
 * or the browser session's.
 */
function userIdOf(ctx: KoaContextWithOIDC): number | null {
  const entities = ctx.oidc?.entities;
  const accountId =
    entities?.Account?.accountId ??
    entities?.RefreshToken?.accountId ??
    entities?.AccessToken?.accountId ??
    entities?.AuthorizationCode?.accountId ??
    entities?.Grant?.accountId ??
    ctx.oidc?.session?.accountId;
  return typeof accountId === 'string' && /^\d+$/.test(accountId) ? Number(accountId) : null;
}

/** Records one of the provider's events for the person and the client of the request, never a token. */
export function recordProviderEvent(
  audit: AuditService,
  type: AuditType,
  ctx: KoaContextWithOIDC,
  detail: Record<string, string | boolean | null>,
): void {
  void audit.record({
    type,
    userId: userIdOf(ctx),
    ip: ctx.ip,
    userAgent: ctx.get('user-agent') || null,
    detail: { client_id: ctx.oidc?.client?.clientId ?? null, ...detail },
  });
}

/**
 * The provider's security events in Twofold's audit trail (OWASP Logging Cheat Sheet: token issue,
 * revocation, logout), with the client and never a token: a token issued at the token endpoint, a
 * grant revoked (at the revocation endpoint, or because a spent code or refresh token came back:
 * RFC 6749 §4.1.2, RFC 9700 §4.14.2). A logout is recorded once its Twofold session ended
 * (provider-logout.ts).
 */
export function auditProviderEvents(provider: Provider, audit: AuditService): void {
  const record = (type: AuditType, ctx: KoaContextWithOIDC, detail: Record<string, string | null>): void =>
    recordProviderEvent(audit, type, ctx, detail);
  provider.on('grant.success', (ctx: KoaContextWithOIDC) =>
    record('oidc.token_issued', ctx, { grant_type: String(ctx.oidc.params?.grant_type ?? '') }),
  );
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) =>
    record('oidc.grant_revoked', ctx, { grant_id: grantId, route: ctx.oidc?.route ?? null }),
  );
}
