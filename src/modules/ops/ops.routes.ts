import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { constantTimeEqual } from '../../lib/crypto.js';
import { AppError } from '../../lib/errors.js';
import type { Metrics } from './metrics.js';

export interface OpsRoutesOptions {
  metrics: Metrics;
  /** Resolves when the database answers; rejects otherwise. */
  pingDatabase(): Promise<void>;
  /** When Redis is configured: `ok`, or what happens while it is down (the service keeps answering). */
  redisStatus?: (() => string) | undefined;
  /**
   * Who may read /metrics: with a token, only `Authorization: Bearer <token>`; without one, anyone
   * in development and test, and nobody in production (the route does not exist).
   */
  metricsAccess?: { token: string | undefined; production: boolean };
}

export const opsRoutes: FastifyPluginAsyncTypebox<OpsRoutesOptions> = async (
  app,
  { metrics, pingDatabase, redisStatus, metricsAccess },
) => {
  app.get(
    '/healthz',
    { schema: { tags: ['operations'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get('/readyz', { schema: { tags: ['operations'] } }, async (request) => {
    try {
      await withTimeout(pingDatabase(), 2000);
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check: database unreachable');
      throw new AppError('service_unavailable', { message: 'The database is unreachable.' });
    }
    return { status: 'ready', checks: { database: 'ok', ...(redisStatus ? { redis: redisStatus() } : {}) } };
  });

  const token = metricsAccess?.token;
  // Metrics name routes, outcomes and process internals: not for the public internet
  // (OWASP Logging Cheat Sheet, "protect monitoring data").
  if (metricsAccess?.production && token === undefined) return;
  app.get('/metrics', { schema: { tags: ['operations'], hide: true } }, async (request, reply) => {
    if (token !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      // Compared in constant time, as digests: neither the token nor its length leaks.
      if (!match?.[1] || !constantTimeEqual(match[1], token)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw new AppError('unauthorized', { message: 'Send Authorization: Bearer <METRICS_TOKEN>.' });
      }
    }
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
