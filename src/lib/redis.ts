import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type * as IORedis from 'ioredis';
import { lazy } from './lazy.js';

const ioredis = lazy<typeof IORedis>('ioredis');

export interface RedisHandle {
  readonly client: Redis;
  /** A second connection for SUBSCRIBE (a subscribed connection can do nothing else). */
  readonly subscriber: Redis;
  status(): 'ok' | 'down';
  close(): Promise<void>;
}

/**
 * Commands fail at once while Redis is unreachable (no offline queue), so callers fall back
 * instead of waiting; ioredis keeps reconnecting in the background and recovers by itself.
 */
export function connectRedis(url: string, log: FastifyBaseLogger): RedisHandle {
  const options = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt: number): number => Math.min(attempt * 200, 2000),
  };
  const { Redis: Client } = ioredis();
  const client = new Client(url, options);
  const subscriber = new Client(url, { ...options, enableOfflineQueue: true });
  let reported = false;
  for (const connection of [client, subscriber]) {
    connection.on('error', (error: Error) => {
      if (!reported) log.warn({ err: error }, 'redis unavailable; falling back until it returns');
      reported = true;
    });
    connection.on('ready', () => {
      if (reported) log.info('redis connection restored');
      reported = false;
    });
  }
  return {
    client,
    subscriber,
    status: () => (client.status === 'ready' ? 'ok' : 'down'),
    async close() {
      client.disconnect();
      subscriber.disconnect();
    },
  };
}
