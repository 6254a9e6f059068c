import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../lib/errors.js';
import type { Metrics } from './metrics.js';

export interface OpsRoutesOptions {
  metrics: Metrics;
  /** Resolves when the database answers; rejects otherwise. */
  pingDatabase(): Promise<void>;
  /** When Redis is configured: `ok`, or what happens while it is down (the service keeps answering). */
  redisStatus?: (() => string) | undefined;
}

export const opsRoutes: FastifyPluginAsyncTypebox<OpsRoutesOptions> = async (app, { metrics, pingDatabase, redisStatus }) => {
  app.get('/healthz', { schema: { tags: ['operations'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', { schema: { tags: ['operations'] } }, async (request) => {
    try {
      await withTimeout(pingDatabase(), 2000);
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check: database unreachable');
      throw new AppError('service_unavailable', { message: 'The database is unreachable.' });
    }
    return { status: 'ready', checks: { database: 'ok', ...(redisStatus ? { redis: redisStatus() } : {}) } };
  });

  app.get('/metrics', { schema: { tags: ['operations'], hide: true } }, async (_request, reply) => {
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
