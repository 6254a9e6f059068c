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
