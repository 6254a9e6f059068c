import type { FastifyBaseLogger } from 'fastify';
import type * as IORedis from 'ioredis';
import { lazy } from '../../lib/lazy.js';
import type { RedisHandle } from '../../lib/redis.js';
import type { SessionCache } from './session-cache.js';

const CHANNEL = 'twofold:session-revocations';

export type Revocation =
  { sessionId: number } | { userId: number; exceptSessionId?: number } | { forgetUserId: number };

/**
 * A session cache whose revocations are published on Redis and applied by every instance at
 * once, instead of after the cache entry's few seconds. Without Redis the plain cache is used.
 */
export function createBroadcastingSessionCache(
  local: SessionCache,
  redis: RedisHandle,
  log: FastifyBaseLogger,
): SessionCache {
  void redis.subscriber
    .subscribe(CHANNEL)
    .catch((error: unknown) => log.warn({ err: error }, 'cannot subscribe to session revocations'));
  redis.subscriber.on('message', (channel: string, message: string) => {
    if (channel !== CHANNEL) return;
    try {
      apply(JSON.parse(message) as Revocation);
    } catch (error) {
      log.warn({ err: error }, 'ignoring a malformed revocation message');
    }
  });

  function apply(revocation: Revocation): void {
    if ('sessionId' in revocation) local.revoke(revocation.sessionId);
    else if ('forgetUserId' in revocation) local.forgetUser(revocation.forgetUserId);
    else local.revokeUser(revocation.userId, revocation.exceptSessionId);
  }

  function publish(revocation: Revocation): void {
    // Best effort: if Redis is down, other instances still notice within the cache's TTL.
    redis.client.publish(CHANNEL, JSON.stringify(revocation)).catch(() => undefined);
  }

  return {
    get: (sessionId, userId, nowMs) => local.get(sessionId, userId, nowMs),
    set: (sessionId, ownerUserId, state, nowMs) => local.set(sessionId, ownerUserId, state, nowMs),
    revoke(sessionId) {
      local.revoke(sessionId);
      publish({ sessionId });
    },
    revokeUser(userId, exceptSessionId) {
      local.revokeUser(userId, exceptSessionId);
      publish(exceptSessionId === undefined ? { userId } : { userId, exceptSessionId });
    },
    forgetUser(userId) {
      local.forgetUser(userId);
      publish({ forgetUserId: userId });
    },
  };
}

/**
 * For a process that changes users outside the server (the CLI): a session cache that keeps
 * nothing (the process answers no requests) and collects every revocation the services make, so
 * that the process can publish exactly those with publishRevocations before it exits.
 */
export function createRecordingSessionCache(): SessionCache & { readonly revocations: readonly Revocation[] } {
  const revocations: Revocation[] = [];
  return {
    revocations,
    get: () => undefined,
    set: () => undefined,
    revoke: (sessionId) => void revocations.push({ sessionId }),
    revokeUser: (userId, exceptSessionId) =>
      void revocations.push(exceptSessionId === undefined ? { userId } : { userId, exceptSessionId }),
    forgetUser: (forgetUserId) => void revocations.push({ forgetUserId }),
  };
}

const ioredis = lazy<typeof IORedis>('ioredis');

/**
 * Tells every running instance at once, as the server itself would (see createRecordingSessionCache).
 * Best effort: without Redis, or if it is down, instances notice within their session-cache
 * expiry (seconds). Resolves false when they were not all published.
 */
export async function publishRevocations(redisUrl: string, revocations: readonly Revocation[]): Promise<boolean> {
  const client = new (ioredis().Redis)(redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    for (const revocation of revocations) await client.publish(CHANNEL, JSON.stringify(revocation));
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
