import { Redis } from 'ioredis';
/**
 * The Redis logical database the multi-instance sides run with (REDIS_URL). Twofold's keys are
 * prefixed `twofold:` but their names (rate-limit windows per address) would be shared with any
 * other Twofold on the same database: the bench uses one of its own, BENCH_REDIS_URL (default
 * database 15 of the local server), emptied (FLUSHDB) at the run's start and end.
 */
export interface BenchRedis {
  url: string;
  displayUrl: string;
  /** The server's version once it answered, or why it cannot be used (then the Redis sides are skipped). */
  check(): Promise<{ version: string } | { unreachable: string }>;
  flush(): Promise<void>;
}

export function redisUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
}

/** A short-lived connection that fails at once, not retrying: the bench must not wait on a Redis that is down. */
async function withRedis<T>(url: string, work: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // connect() rejects with "Connection is closed."; the 'error' event has the cause (ECONNREFUSED …).
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await client.connect().catch((error: unknown) => {
      throw cause ?? error;
    });
    return await work(client);
  } finally {
    client.disconnect();
  }
}

export function benchRedis(url = redisUrl()): BenchRedis {
  return {
    url,
    // A password may come alone (redis://:secret@host), which Twofold's redactUrl does not expect.
    displayUrl: url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@'),
    check: () =>
      withRedis(url, async (client) => {
        await client.flushdb();
        const info = await client.info('server');
        return { version: /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown' };
      }).catch((error: unknown) => ({ unreachable: error instanceof Error ? error.message : String(error) })),
    flush: () => withRedis(url, async (client) => void (await client.flushdb())),
  };
}
