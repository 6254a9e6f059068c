import type { FastifyRequest } from 'fastify';

/** Who sent a request, as the sessions list and the audit trail record it. */
export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

export function clientInfo(request: FastifyRequest): ClientInfo {
  return { userAgent: request.headers['user-agent'] ?? null, ip: request.ip };
}
