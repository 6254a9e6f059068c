import type { FastifyBaseLogger } from 'fastify';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditService } from '../audit/audit.service.js';
import type { BrowserSignOut } from '../sessions/browser-sign-out.js';
import { recordProviderEvent } from './provider-audit.js';

interface Confirmed {
  /** The account whose provider session the person ended with "Sign out"; null: the application's grant only. */
  signedOutUserId: number | null;
}

/**
 * RP-initiated logout ends the person's Twofold session in that browser too (OpenID Connect RP-Initiated Logout 1.0
 * §2: the OP logs the End-User out). Without it, the web UI's refresh cookie would sign them straight back in at
 * the next authorization, and the "Sign out" they just confirmed would have ended nothing they can see.
 *
 * Only after the provider has accepted the confirmation (its anti-forgery value checked, its session destroyed:
 * `end_session.success` with `logout`), and only for the account that provider session belonged to: a browser
 * with no provider session gets the provider's auto-submitted form, which any site could trigger, and ends
 * nothing here (logout CSRF). The sessions module decides what its cookie names and ends it.
 */
export function endTwofoldSessionOnLogout(
  provider: Provider,
  deps: { signOut: BrowserSignOut; audit: AuditService; log: FastifyBaseLogger },
): void {
  const confirmed = new WeakMap<object, Confirmed>();
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    // The provider reads any non-empty `logout` as "sign out of the OP" (end_session.js), so this does too.
    const accountId = ctx.oidc.params?.logout ? ctx.oidc.session?.accountId : undefined;
    confirmed.set(ctx, {
      signedOutUserId: typeof accountId === 'string' && /^\d{1,15}$/.test(accountId) ? Number(accountId) : null,
    });
  });
  // Around the provider's routes: the confirmation's answer (a 303 redirect) is complete but not yet sent.
  provider.use(async (ctx, next) => {
    await next();
    const done = confirmed.get(ctx);
    if (!done) return;
    const oidcCtx = ctx as KoaContextWithOIDC;
    let ended = false;
    if (done.signedOutUserId !== null) {
      try {
        const result = await deps.signOut((name) => ctx.cookies.get(name, { signed: false }), done.signedOutUserId);
        ended = result.ended;
        if (result.clearCookies.length > 0) ctx.append('Set-Cookie', result.clearCookies);
      } catch (error) {
        // The person asked to be signed out and is not: say so rather than redirect as if it had worked.
        deps.log.error({ err: error }, 'ending the Twofold session at an RP-initiated logout failed');
        ctx.status = 500;
        ctx.type = 'html';
        ctx.remove('location');
        ctx.body =
          '<!doctype html><meta charset="utf-8"><title>Sign-out error</title><h1>Sign-out error</h1>' +
          '<p>Your Twofold session could not be ended. Sign out in Twofold itself.</p>';
      }
    }
    recordProviderEvent(deps.audit, 'oidc.logout', oidcCtx, {
      signed_out_of_twofold: done.signedOutUserId !== null,
      twofold_session_ended: ended,
    });
  });
}
