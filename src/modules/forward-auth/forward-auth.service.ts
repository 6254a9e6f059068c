import type { ForwardAuthConfig } from '../../config-forward-auth.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { SessionCookieRef } from '../sessions/session-cookie.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import { provesSecondFactor } from '../two-factor/require-2fa.js';
import { originalUrl, returnUrl, ruleFor } from './forward-urls.js';

/** Who the proxy's request comes from, for the protected application's headers. */
export interface ForwardIdentity {
  username: string;
  /** Only an address the person proved: an application that finds its users by address must not get a claim. */
  email: string | null;
  /** The role stored now (a role change acts on the next request), as the session check reads it. */
  role: string;
  amr: string[];
}

export interface ForwardQuestion {
  /** The session the browser's cookie names (its MAC checked), if any. */
  session: SessionCookieRef | undefined;
  /** The proxy's headers naming the address the person asked for. */
  headers: Record<string, string | string[] | undefined>;
}

export interface ForwardAuthService {
  /**
   * The proxy asks whether the request may pass: the person's identity when the session is live and the host's
   * rule is met; `{ signIn }` (the sign-in page's address, returning to the address asked for) when nobody is
   * signed in and that address's host is under FORWARD_AUTH_DOMAINS; otherwise 401 (not signed in) or 403 (signed
   * in, the rule not met).
   */
  check(question: ForwardQuestion): Promise<{ identity: ForwardIdentity } | { signIn: string }>;
  /** Where the sign-in page's "return" goes: `raw` when its host is allowed, else Twofold's own start page. */
  returnTo(raw: string): string;
}

export interface ForwardAuthDeps {
  config: ForwardAuthConfig;
  publicUrl: string;
  /** The sessions module's check: cached, and told of revocations on every instance (the revocation bus). */
  sessions: Pick<SessionsService, 'check' | 'amrOf'>;
  accounts: Pick<AccountsService, 'findById'>;
  clock: Clock;
}

/**
 * The name, address and methods of a session change rarely (an address change, a re-authentication): they are
 * kept as long as the session check keeps its own answer. Whether the session is live, and the role, are asked of
 * the session check on every request.
 */
const IDENTITY_TTL_MS = 5000;
const IDENTITY_MAX_ENTRIES = 100_000;
export const NOT_SIGNED_IN = 'Sign in to Twofold first.';

interface CachedIdentity {
  userId: number;
  username: string;
  email: string | null;
  amr: string[];
  readAtMs: number;
}

export function createForwardAuthService(deps: ForwardAuthDeps): ForwardAuthService {
  const { config, sessions, accounts, clock } = deps;
  const identities = new Map<number, CachedIdentity>();

  async function identityOf(ref: SessionCookieRef, nowMs: number): Promise<CachedIdentity | undefined> {
    const cached = identities.get(ref.sessionId);
    if (cached && cached.userId === ref.userId && nowMs - cached.readAtMs <= IDENTITY_TTL_MS) return cached;
    const [user, amr] = await Promise.all([accounts.findById(ref.userId), sessions.amrOf(ref.sessionId, ref.userId)]);
    if (!user) return undefined;
    // An unproven address could be anyone's: an application that maps users by address would hand that account
    // over (the reason OpenID Connect has `email_verified`, Core §5.1).
    const email = user.email_verified ? user.email : null;
    const fresh = { userId: ref.userId, username: user.username, email, amr, readAtMs: nowMs };
    if (identities.size >= IDENTITY_MAX_ENTRIES) identities.clear();
    identities.set(ref.sessionId, fresh);
    return fresh;
  }

  function notSignedIn(question: ForwardQuestion): { signIn: string } {
    const unauthorized = new AppError('unauthorized', { message: NOT_SIGNED_IN });
    const original = originalUrl(question.headers);
    // Only towards hosts under FORWARD_AUTH_DOMAINS: anything else would make the sign-in page an open redirect.
    const allowed =
      original instanceof URL && returnUrl(original.href, { domains: config.domains, publicUrl: deps.publicUrl });
    if (!allowed) throw unauthorized;
    return { signIn: `${deps.publicUrl}/app/login?redirect=${encodeURIComponent(allowed.href)}` };
  }

  return {
    async check(question) {
      const ref = question.session;
      if (!ref) return notSignedIn(question);
      const nowMs = clock.now().getTime();
      const state = await sessions.check(ref.sessionId, ref.userId);
      if (!state.active) return notSignedIn(question);
      const identity = await identityOf(ref, nowMs);
      if (!identity) return notSignedIn(question);
      if (config.rules.length > 0) {
        const original = originalUrl(question.headers);
        // With rules, a request that names no host, or two, cannot be judged: refused rather than waved through.
        if (!(original instanceof URL))
          throw new AppError('forbidden', {
            message:
              original === 'none'
                ? 'The proxy named no host (X-Original-URL or X-Forwarded-Host); access rules cannot be applied.'
                : 'The request names its host in ways that disagree; access rules cannot be applied.',
          });
        const host = original.hostname;
        const rule = ruleFor(host, config.rules);
        if (rule?.role === 'admin' && state.role !== 'admin')
          throw new AppError('forbidden', { message: `${host} is for administrators.` });
        if (rule?.mfa && !provesSecondFactor(identity.amr))
          throw new AppError('forbidden', {
            message: `${host} asks for two factors: sign out, then sign in with your second factor or a passkey.`,
          });
      }
      return {
        identity: { username: identity.username, email: identity.email, role: state.role, amr: identity.amr },
      };
    },

    returnTo(raw) {
      return returnUrl(raw, { domains: config.domains, publicUrl: deps.publicUrl })?.href ?? '/';
    },
  };
}
