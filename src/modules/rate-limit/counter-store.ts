import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { compiledOnce } from '../../db/compiled.js';
import { uniqueViolation } from '../../db/errors.js';
import type { Database } from '../../db/schema.js';

/** Hit counts of one key in the current and the previous fixed window. */
export interface WindowCounts {
  current: number;
  previous: number;
}

export interface CounterStore {
  readonly name: string;
  /** Counts one hit in window `windowIndex` and returns it with the previous window's count. */
  hit(key: string, windowIndex: number, windowMs: number, nowMs: number): Promise<WindowCounts>;
}

/** Counters in the `rate_counters` table: shared by every instance on the same database. */
export function createDatabaseCounterStore(db: Kysely<Database>): CounterStore {
  let calls = 0;
  // Sent on every limited request, so compiled once (compiled.ts).
  const countUp = compiledOnce<[key: string], never>((qb, arg) =>
    qb
      .updateTable('rate_counters')
      .set({ hits: sql`hits + 1` })
      .where('counter_key', '=', arg(0)),
  );
  const bothWindows = compiledOnce<[current: string, previous: string], { counter_key: string; hits: number }>(
    (qb, arg) =>
      qb
        .selectFrom('rate_counters')
        .select(['counter_key', 'hits'])
        .where('counter_key', 'in', [arg(0), arg(1)]),
  );
  async function increment(key: string, expiresAt: number): Promise<void> {
    if (Number((await countUp(db, key)).numAffectedRows) > 0) return;
    try {
      await db.insertInto('rate_counters').values({ counter_key: key, hits: 1, expires_at: expiresAt }).execute();
    } catch (error) {
      // Another request inserted the row first: count on it instead.
      if (uniqueViolation(error) === null) throw error;
      await countUp(db, key);
    }
  }
  return {
    name: 'database',
    async hit(key, windowIndex, windowMs, nowMs) {
      const currentKey = `${key}:${windowIndex}`;
      const previousKey = `${key}:${windowIndex - 1}`;
      await increment(currentKey, (windowIndex + 2) * windowMs);
      if (++calls % 500 === 0) await db.deleteFrom('rate_counters').where('expires_at', '<', nowMs).execute();
      const { rows } = await bothWindows(db, currentKey, previousKey);
      const hits = (k: string): number => rows.find((r) => r.counter_key === k)?.hits ?? 0;
      return { current: hits(currentKey), previous: hits(previousKey) };
    },
  };
}

/** Counters in Redis (INCR + PEXPIRE in one MULTI), shared by every instance using that Redis. */
export function createRedisCounterStore(redis: Redis): CounterStore {
  return {
    name: 'redis',
    async hit(key, windowIndex, windowMs) {
      const currentKey = `twofold:rl:${key}:${windowIndex}`;
      const results = await redis
        .multi()
        .incr(currentKey)
        .pexpire(currentKey, windowMs * 2)
        .get(`twofold:rl:${key}:${windowIndex - 1}`)
        .exec();
      if (!results) throw new Error('redis transaction aborted');
      for (const [error] of results) if (error) throw error;
      return { current: Number(results[0]?.[1] ?? 0), previous: Number(results[2]?.[1] ?? 0) };
    },
  };
}

export interface FallbackState {
  /** Null while the primary store works; otherwise why it is not used. */
  degraded(): string | null;
}

/**
 * Uses `primary` (Redis) and falls back to `secondary` (the database) when it fails, so the
 * service keeps answering; says so in the log once per outage, and returns to Redis when it works.
 */
export function createFallbackCounterStore(
  primary: CounterStore,
  secondary: CounterStore,
  log: FastifyBaseLogger,
): CounterStore & FallbackState {
  let failure: string | null = null;
  return {
    name: `${primary.name} (falls back to ${secondary.name})`,
    degraded: () => failure,
    async hit(key, windowIndex, windowMs, nowMs) {
      try {
        const counts = await primary.hit(key, windowIndex, windowMs, nowMs);
        if (failure !== null) log.warn(`rate limiting: ${primary.name} is back; counting there again`);
        failure = null;
        return counts;
      } catch (error) {
        if (failure === null)
          log.warn(
            { err: error },
            `rate limiting: ${primary.name} unavailable; counting in the ${secondary.name} until it returns`,
          );
        failure = error instanceof Error ? error.message : String(error);
        return secondary.hit(key, windowIndex, windowMs, nowMs);
      }
    },
  };
}
