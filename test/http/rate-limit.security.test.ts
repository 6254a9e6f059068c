import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

const LIMITS = { RATE_LIMIT_LOGIN: '5', RATE_LIMIT_REGISTER: '3', RATE_LIMIT_RECOVERY: '3' };
const redisAvailable = await new Redis('redis://127.0.0.1:6379', {
  lazyConnect: true,
  maxRetriesPerRequest: 0,
  connectTimeout: 1000,
})
  .connect()
  .then(
    () => true,
    () => false,
  );
if (!redisAvailable && process.env.CI === 'true')
  throw new Error('Redis at 127.0.0.1:6379 is not reachable (CI=true: nothing may be skipped)');
if (!redisAvailable)
  console.warn('SKIPPED: Redis at 127.0.0.1:6379 is not reachable; the Redis rate-limit tests do not run.');

/** A client address of its own, so tests (and parallel runs sharing Redis) never count against each other. */
function freshIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

/**
 * A wrong password for a fresh unknown name: unknown names lock like accounts, and only the per-IP limit is under test
 * here.
 */
function loginFrom(t: TestApp, ip: string, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    remoteAddress: ip,
    headers,
    payload: { username: `nobody-${randomInt(1e9)}`, password: 'wrong password' },
  });
}

describe.each([
  ['the database', {}],
  ...(redisAvailable ? [['Redis', { REDIS_URL: 'redis://127.0.0.1:6379' }] as const] : []),
] as const)('per-IP rate limits counted in %s', (_name, env) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: { ...LIMITS, ...env } });
    // Until the Redis connection is up, counts go to the database fallback: wait for it.
    for (let i = 0; i < 100 && 'REDIS_URL' in env; i++) {
      if ((await t.app.inject({ url: '/readyz' })).json().checks.redis === 'ok') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  afterAll(async () => t?.close());

  it('answers more than the limit of login attempts a minute from one address with 429 and Retry-After', async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i++) expect((await loginFrom(t, ip)).statusCode).toBe(401);
    const limited = await loginFrom(t, ip);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: 'too_many_attempts', message: expect.any(String) });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('counts an IPv6 client by its /64: two addresses in one /64 share a limit, the next /64 has its own', async () => {
    const prefix = `2001:db8:${randomInt(0x10000).toString(16)}:${randomInt(0x10000).toString(16)}`;
    for (let i = 0; i < 5; i++) expect((await loginFrom(t, `${prefix}::${(i + 1).toString(16)}`)).statusCode).toBe(401);
    // A sixth attempt from yet another address of the same /64 is over the limit.
    expect((await loginFrom(t, `${prefix}:ffff:ffff:ffff:fff0`)).statusCode).toBe(429);
    const neighbour = `2001:db8:${randomInt(0x10000).toString(16)}:${randomInt(0x10000).toString(16)}::1`;
    expect((await loginFrom(t, neighbour)).statusCode).toBe(401);
  });

  it('counts an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it carries', async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i++) expect((await loginFrom(t, i % 2 ? `::ffff:${ip}` : ip)).statusCode).toBe(401);
    expect((await loginFrom(t, `::ffff:${ip}`)).statusCode).toBe(429);
    expect((await loginFrom(t, ip)).statusCode).toBe(429);
  });

  it('never limits one address because of another', async () => {
    const noisy = freshIp();
    for (let i = 0; i < 7; i++) await loginFrom(t, noisy);
    expect((await loginFrom(t, noisy)).statusCode).toBe(429);
    expect((await loginFrom(t, freshIp())).statusCode).toBe(401);
  });

  it('slides: the last minute counts, older attempts fade out', async () => {
    const ip = freshIp();
    for (let i = 0; i < 6; i++) await loginFrom(t, ip);
    expect((await loginFrom(t, ip)).statusCode).toBe(429);
    t.clock.advance(120_000);
    expect((await loginFrom(t, ip)).statusCode).toBe(401);
  });

  it('limits registration and password recovery separately', async () => {
    const ip = freshIp();
    const register = (n: number) =>
      t.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        remoteAddress: ip,
        payload: { username: `rl${n}_${randomInt(1e9)}`, password: 'a perfectly fine passphrase' },
      });
    for (let i = 0; i < 3; i++) expect((await register(i)).statusCode).toBe(201);
    expect((await register(9)).statusCode).toBe(429);
    expect((await loginFrom(t, ip)).statusCode).toBe(401);
  });

  it('leaves other routes alone', async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i++)
      expect((await t.app.inject({ url: '/healthz', remoteAddress: ip })).statusCode).toBe(200);
  });
});

describe('TRUST_PROXY', () => {
  it('believes X-Forwarded-For only when told to', async () => {
    const trusting = await buildTestApp({ env: { ...LIMITS, TRUST_PROXY: 'true' } });
    const wary = await buildTestApp({ env: LIMITS });
    try {
      const proxy = freshIp();
      for (const t of [trusting, wary])
        for (let i = 0; i < 6; i++) await loginFrom(t, proxy, { 'x-forwarded-for': freshIp() });
      // Behind a trusted proxy each forwarded client has its own budget; otherwise the header is ignored.
      expect((await loginFrom(trusting, proxy, { 'x-forwarded-for': freshIp() })).statusCode).toBe(401);
      expect((await loginFrom(wary, proxy, { 'x-forwarded-for': freshIp() })).statusCode).toBe(429);
    } finally {
      await trusting.close();
      await wary.close();
    }
  });
});

describe('Redis outage', () => {
  it('keeps answering and limiting when Redis is unreachable, and says so in /readyz', async () => {
    // Port 1 refuses connections: the limiter falls back to the database at once.
    const t = await buildTestApp({ env: { ...LIMITS, REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const ip = freshIp();
      for (let i = 0; i < 5; i++) expect((await loginFrom(t, ip)).statusCode).toBe(401);
      expect((await loginFrom(t, ip)).statusCode).toBe(429);
      const ready = await t.app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().checks.redis).toMatch(/^down/);
    } finally {
      await t.close();
    }
  });
});
