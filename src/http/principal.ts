import type { FastifyRequest } from 'fastify';

/** The authenticated caller, decoded from a verified access token whose session is live. */
export interface Principal {
  userId: number;
  username: string;
  role: string;
  sessionId: number;
  amr: string[];
  /** `auth_time` of the access token (NumericDate seconds), or null for a token issued without one. */
  authTime: number | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function requirePrincipal(principal: Principal | null): Principal {
  if (!principal) throw new TypeError('route is missing the authenticate hook');
  return principal;
}

/**
 * The onRequest hook that sets `request.principal` from a verified bearer access token whose
 * session is live, or answers 401 `unauthorized`. Made by the sessions module
 * (`src/modules/sessions/authenticate.ts`); declared here so that a module's routes can take it
 * without importing the sessions module.
 */
export type Authenticate = (request: FastifyRequest) => Promise<void>;

/**
 * The preHandler of sensitive changes: 403 `reauth_required` unless the principal proved who they
 * are recently. Made by `src/modules/sessions/recent-auth.ts`; declared here for the same reason.
 */
export type RequireRecentAuth = (request: FastifyRequest) => Promise<void>;
