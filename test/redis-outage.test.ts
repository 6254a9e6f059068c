import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './support/app.js';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer && process.env.CI === 'true')
  throw new Error('redis-server is not installed (CI=true: nothing may be skipped)');
if (!hasRedisServer) console.warn('SKIPPED: redis-server is not installed; the Redis outage test does not run.');

/** A private Redis server for this test, so stopping it disturbs nobody else. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  for (let i = 0; i < 100; i++) {
    if (
      await probe.connect().then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  probe.disconnect();
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function redisCheck(t: TestApp): Promise<string> {
  const ready = await t.app.inject({ url: '/readyz' });
  expect(ready.statusCode).toBe(200);
  return ready.json().checks.redis as string;
}

async function until(t: TestApp, wanted: RegExp): Promise<string> {
  let status = '';
  for (let i = 0; i < 150 && !wanted.test(status); i++) {
    status = await redisCheck(t);
    if (!wanted.test(status)) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return status;
}

// Under CI=true nothing may be skipped: a missing redis-server then fails the test instead.
describe.skipIf(!hasRedisServer && process.env.CI !== 'true')('when Redis goes away', () => {
  const port = randomInt(20000, 40000);
  let redis: ChildProcess | undefined;
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.close();
    if (redis) await stop(redis);
  });

  it(
    'keeps answering, says so in /readyz, and counts in Redis again once it returns',
    { timeout: 60_000 },
    async () => {
      redis = await startRedis(port);
      t = await buildTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_LOGIN: '1000' } });
      const app = t;
      const login = () =>
        app.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: `nobody-${randomInt(1e9)}`, password: 'wrong password' },
        });
      expect(await until(app, /^ok$/)).toBe('ok');
      expect((await login()).statusCode).toBe(401);

      await stop(redis);
      expect(await until(app, /^down/)).toMatch(/^down/);
      // The limiter falls back to the database: requests are still answered, not failed.
      for (let i = 0; i < 3; i++) expect((await login()).statusCode).toBe(401);

      redis = await startRedis(port);
      expect(await until(app, /^ok$/)).toBe('ok');
      expect((await login()).statusCode).toBe(401);
      const client = new Redis({ port, host: '127.0.0.1' });
      try {
        expect((await client.keys('twofold:rl:*')).length).toBeGreaterThan(0);
      } finally {
        client.disconnect();
      }
    },
  );
});
