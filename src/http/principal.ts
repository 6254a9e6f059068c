import type { FastifyReply, FastifyRequest } from 'fastify';

/** The authenticated caller, decoded from a verified access token whose session is live. */
export interface Principal {
  userId: number;
  username: string;
  role: string;
  sessionId: number;
  amr: string[];
  /** `auth_time` of the access token (NumericDate seconds), or null for a token issued without one. */
  authTime: number | null;
  /**
   * Set when the caller holds a set-up token (REQUIRE_2FA): the id of its grant, which setting up the
   * first second factor completes into a session. Such a principal has no session (`sessionId` 0).
   */
  setupGrant?: string;
}

/**
 * Who may call a route before setting up the second factor REQUIRE_2FA asks of them (a route's
 * `config.beforeSecondFactor`; without it, nobody): `setup`, the set-up token and a session signed
 * in with a password only (the routes that set up a factor and show the account); `session`, only
 * such a session (re-authentication and its emailed code, which make it a two-factor session).
 */
export type BeforeSecondFactor = 'setup' | 'session';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    beforeSecondFactor?: BeforeSecondFactor;
  }
}

export function requirePrincipal(principal: Principal | null): Principal {
  if (!principal) throw new TypeError('route is missing the authenticate hook');
  return principal;
}

/**
 * The onRequest hook that sets `request.principal` from a verified bearer access token whose
 * session is live, or answers 401 `unauthorized` (403 `mfa_setup_required` for a caller REQUIRE_2FA
 * keeps to the routes marked `beforeSecondFactor`). Made by the sessions module
 * (`src/modules/sessions/authenticate.ts`); declared here so that a module's routes can take it
 * without importing the sessions module.
 */
export type Authenticate = (request: FastifyRequest) => Promise<void>;

/**
 * The preHandler of sensitive changes: 403 `reauth_required` unless the principal proved who they
 * are recently. Made by `src/modules/sessions/recent-auth.ts`; declared here for the same reason.
 */
export type RequireRecentAuth = (request: FastifyRequest) => Promise<void>;

/**
 * After a second factor is set up: for a caller holding a set-up token, the sign-in it completes
 * (`{ tokens }`, with the cookies a login sets), once; `{}` for anyone else. Made by the login module
 * (`createFinishMfaSetup`); declared here so the two-factor routes can take it.
 */
export type FinishMfaSetup = (
  request: FastifyRequest,
  reply: FastifyReply,
  method: 'totp' | 'email',
) => Promise<{ tokens?: object }>;
