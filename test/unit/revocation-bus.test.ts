import { randomInt } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisHandle } from '../../src/lib/redis.js';
import {
  createBroadcastingSessionCache,
  createRecordingSessionCache,
  publishRevocations,
} from '../../src/modules/sessions/revocation-bus.js';
import { createSessionCache, type SessionCache } from '../../src/modules/sessions/session-cache.js';

/**
 * Two instances' session caches joined by a real Redis: what one revokes, the other refuses at
 * once, not after its cache entry's seconds. Session and user ids are random so that other test
 * files publishing on the same channel at the same time touch nothing here.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const NOW = Date.now();
const live = { active: true, role: 'user' };
const id = (): number => randomInt(1_000_000_000, 2_000_000_000);

const warnings: string[] = [];
const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }) as FastifyBaseLogger;

let handles: RedisHandle[] = [];
let a: SessionCache;
let b: SessionCache;

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}

/** Every message published before a marker has been applied once the marker has (one connection, in order). */
async function drained(from: SessionCache): Promise<void> {
  const marker = id();
  b.set(marker, 1, live, NOW);
  from.revoke(marker);
  await until(() => b.get(marker, 1, NOW)?.active === false);
}

beforeAll(async () => {
  handles = [connectRedis(REDIS_URL, log), connectRedis(REDIS_URL, log)];
  a = createBroadcastingSessionCache(createSessionCache({ ttlMs: 60_000, maxEntries: 1000 }), handles[0]!, log);
  b = createBroadcastingSessionCache(createSessionCache({ ttlMs: 60_000, maxEntries: 1000 }), handles[1]!, log);
  // Both subscriptions are live once a revocation travels each way.
  const [x, y] = [id(), id()];
  a.set(x, 1, live, NOW);
  b.set(y, 1, live, NOW);
  for (let i = 0; i < 200 && (a.get(x, 1, NOW)?.active || b.get(y, 1, NOW)?.active); i++) {
    b.revoke(x);
    a.revoke(y);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
});

afterAll(async () => {
  for (const handle of handles) await handle.close();
});

describe('the revocation bus (Redis)', () => {
  it('passes reads and writes to the instance’s own cache', () => {
    const sid = id();
    a.set(sid, 7, { active: true, role: 'admin' }, NOW);
    expect(a.get(sid, 7, NOW)).toEqual({ active: true, role: 'admin' });
    expect(b.get(sid, 7, NOW)).toBeUndefined();
  });

  it('a session revoked on one instance is refused on the other and on itself', async () => {
    const sid = id();
    a.set(sid, 7, live, NOW);
    b.set(sid, 7, live, NOW);
    a.revoke(sid);
    expect(a.get(sid, 7, NOW)?.active).toBe(false);
    await until(() => b.get(sid, 7, NOW)?.active === false);
  });

  it('ending a user’s sessions but one reaches the other instance with the exception', async () => {
    const user = id();
    const [keep, end] = [id(), id()];
    for (const cache of [a, b]) {
      cache.set(keep, user, live, NOW);
      cache.set(end, user, live, NOW);
    }
    a.revokeUser(user, keep);
    expect(a.get(end, user, NOW)?.active).toBe(false);
    expect(a.get(keep, user, NOW)).toEqual(live);
    await until(() => b.get(end, user, NOW)?.active === false);
    expect(b.get(keep, user, NOW)).toEqual(live);

    a.revokeUser(user);
    await until(() => b.get(keep, user, NOW)?.active === false);
  });

  it('a role change makes the other instance read the user’s sessions again', async () => {
    const user = id();
    const sid = id();
    a.set(sid, user, live, NOW);
    b.set(sid, user, live, NOW);
    a.forgetUser(user);
    expect(a.get(sid, user, NOW)).toBeUndefined();
    await until(() => b.get(sid, user, NOW) === undefined);
  });

  it('ignores a malformed message and other channels, and keeps applying the next ones', async () => {
    const sid = id();
    b.set(sid, 7, live, NOW);
    await handles[1]!.subscriber.subscribe('twofold:test-other-channel');
    await handles[0]!.client.publish('twofold:test-other-channel', JSON.stringify({ sessionId: sid }));
    await handles[0]!.client.publish('twofold:session-revocations', '{not json');
    await drained(a);
    expect(b.get(sid, 7, NOW)).toEqual(live);
    expect(warnings.some((line) => line.includes('ignoring a malformed revocation message'))).toBe(true);
  });

  it('the command line records its revocations and publishes them to running instances', async () => {
    const recording = createRecordingSessionCache();
    const [user, sid, keep, other] = [id(), id(), id(), id()];
    recording.set(sid, user, live, NOW);
    expect(recording.get(sid, user, NOW)).toBeUndefined();
    recording.revoke(sid);
    recording.revokeUser(user, keep);
    recording.revokeUser(user);
    recording.forgetUser(user);
    expect(recording.revocations).toStrictEqual([
      { sessionId: sid },
      { userId: user, exceptSessionId: keep },
      { userId: user },
      { forgetUserId: user },
    ]);

    b.set(sid, other, live, NOW);
    expect(await publishRevocations(REDIS_URL, [{ sessionId: sid }])).toBe(true);
    await until(() => b.get(sid, other, NOW)?.active === false);
  });

  it('publishing to a Redis that is not there reports failure instead of throwing', async () => {
    expect(await publishRevocations('redis://127.0.0.1:1', [{ sessionId: 1 }])).toBe(false);
  });
});
