import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTOTP } from '../src/modules/two-factor/totp.js';
import { PASSWORD, TEST_SECRETS, UNLIMITED, uniqueName } from './support/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from './support/databases.js';
import { describeNotSelected } from './support/not-selected.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = await new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000 })
  .connect()
  .then(
    () => true,
    () => false,
  );
if (!redisUp && process.env.CI === 'true')
  throw new Error(`Redis at ${REDIS_URL} is not reachable (CI=true: nothing may be skipped)`);
if (!redisUp) console.warn(`SKIPPED: Redis at ${REDIS_URL} is not reachable; the two-instance tests do not run.`);
const dialects = redisUp ? (await testDialects()).filter((d) => d !== 'sqlite') : [];

interface Instance {
  url: string;
  child: ChildProcess;
}

/** A real server process, as `npm start` runs it, on a free port. */
async function startInstance(databaseUrl: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      ...TEST_SECRETS,
      ...UNLIMITED,
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      PORT: '0',
      TWOFOLD_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'twofold-instance-')),
      LOG_LEVEL: 'info',
      // Only admins write products, so a demotion has something to take away.
      PRODUCT_WRITE_ROLES: 'admin',
    },
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Twofold is listening on (http:\/\/[\d.:]+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}: ${output}`)));
  });
  // Wait until the instance's Redis connection is up, so revocations are broadcast.
  for (let i = 0; i < 100; i++) {
    const ready = (await (await fetch(`${url}/readyz`)).json()) as { checks?: { redis?: string } };
    if (ready.checks?.redis === 'ok') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, child };
}

async function call(
  instance: Instance,
  method: string,
  route: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${instance.url}${route}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Polls until `check` holds, for at most `ms`: the contract allows other instances a few seconds. */
async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

if (dialects.length === 0) {
  // Two processes cannot share an in-memory SQLite database: these tests need a database server.
  describeNotSelected(
    'two instances sharing a database and Redis',
    redisUp
      ? 'no PostgreSQL or MariaDB in this run (TEST_DATABASES, or not reachable)'
      : `Redis at ${REDIS_URL} is not reachable`,
  );
}

describe.each(dialects)('two instances sharing %s and Redis', { timeout: 120_000 }, (dialect) => {
  let database: TestDatabase;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    a = await startInstance(database.url);
    b = await startInstance(database.url);
  }, 120_000);
  afterAll(async () => {
    for (const instance of [a, b]) instance?.child.kill('SIGTERM');
    await Promise.all(
      [a, b].map(
        (i) =>
          i && new Promise((resolve) => (i.child.exitCode !== null ? resolve(null) : i.child.once('exit', resolve))),
      ),
    );
    await database?.drop();
  });

  async function newUser(): Promise<string> {
    const username = uniqueName('multi');
    expect((await call(a, 'POST', '/api/auth/register', { username, password: PASSWORD })).status).toBe(201);
    return username;
  }

  it('enforces on one instance a lockout triggered through the other', async () => {
    const username = await newUser();
    for (let i = 0; i < 5; i++)
      expect((await call(a, 'POST', '/api/auth/login', { username, password: 'wrong password!' })).status).toBe(401);
    const locked = await call(b, 'POST', '/api/auth/login', { username, password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe('too_many_attempts');
  });

  it('ends a session everywhere: refresh fails at once, access tokens within 5 seconds', async () => {
    const username = await newUser();
    const tokens = (await call(a, 'POST', '/api/auth/login', { username, password: PASSWORD })).body as {
      access_token: string;
      refresh_token: string;
    };
    expect((await call(b, 'GET', '/api/user/me', undefined, tokens.access_token)).status).toBe(200);
    expect((await call(a, 'POST', '/api/auth/logout', { refresh_token: tokens.refresh_token })).status).toBe(204);
    expect((await call(b, 'POST', '/api/auth/refresh', { refresh_token: tokens.refresh_token })).status).toBe(401);
    expect(
      await eventually(
        async () => (await call(b, 'GET', '/api/user/me', undefined, tokens.access_token)).status === 401,
        5000,
      ),
    ).toBe(true);
  });

  it('ends the session on the other instance when a spent refresh token is replayed', async () => {
    const username = await newUser();
    const first = (await call(a, 'POST', '/api/auth/login', { username, password: PASSWORD })).body as {
      refresh_token: string;
    };
    const rotated = (await call(a, 'POST', '/api/auth/refresh', { refresh_token: first.refresh_token })).body as {
      access_token: string;
      refresh_token: string;
    };
    expect((await call(b, 'GET', '/api/user/me', undefined, rotated.access_token)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100)); // past the grace window for concurrent duplicates
    expect((await call(b, 'POST', '/api/auth/refresh', { refresh_token: first.refresh_token })).status).toBe(401);
    expect((await call(a, 'POST', '/api/auth/refresh', { refresh_token: rotated.refresh_token })).status).toBe(401);
    expect(
      await eventually(
        async () => (await call(a, 'GET', '/api/user/me', undefined, rotated.access_token)).status === 401,
        5000,
      ),
    ).toBe(true);
  });

  it('refuses on one instance a TOTP code already used on the other', async () => {
    const username = await newUser();
    const { access_token } = (await call(a, 'POST', '/api/auth/login', { username, password: PASSWORD })).body as {
      access_token: string;
    };
    const setup = (await call(a, 'POST', '/api/auth/2fa/setup', {}, access_token)).body as { secret: string };
    // Setup burns the current step; sign in with the next one, as an authenticator would show it.
    expect(
      (
        await call(
          a,
          'POST',
          '/api/auth/2fa/verify-setup',
          { code: generateTOTP(setup.secret, Date.now() - 30_000) },
          access_token,
        )
      ).status,
    ).toBe(200);
    const code = generateTOTP(setup.secret, Date.now());
    const first = await call(a, 'POST', '/api/auth/login', { username, password: PASSWORD, totp_code: code });
    expect(first.status).toBe(200);
    const replay = await call(b, 'POST', '/api/auth/login', { username, password: PASSWORD, totp_code: code });
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_mfa_code');
  });

  it('refuses on the other instance, through Redis and well inside the 5 s cache expiry, the tokens of an account deleted or signed out everywhere by an administrator', async () => {
    const adminName = await newUser();
    await database.handle.db.updateTable('users').set({ role: 'admin' }).where('username', '=', adminName).execute();
    const adminToken = (
      (await call(a, 'POST', '/api/auth/login', { username: adminName, password: PASSWORD })).body as {
        access_token: string;
      }
    ).access_token;
    const signIn = async () => {
      const username = await newUser();
      const tokens = (await call(b, 'POST', '/api/auth/login', { username, password: PASSWORD })).body as {
        access_token: string;
        user: { id: number };
      };
      // Cached as live on b: a route that reads nothing of the account, so only the session check can refuse it.
      expect((await call(b, 'GET', '/api/products', undefined, tokens.access_token)).status).toBe(200);
      return { username, token: tokens.access_token, id: tokens.user.id };
    };
    const refusedOnB = (token: string) =>
      eventually(async () => (await call(b, 'GET', '/api/products', undefined, token)).status === 401, 1500);

    const leaver = await signIn();
    expect((await call(a, 'DELETE', '/api/user/me', { confirm: leaver.username }, leaver.token)).status).toBe(204);
    expect(await refusedOnB(leaver.token)).toBe(true);

    const removed = await signIn();
    expect((await call(a, 'DELETE', `/api/admin/users/${removed.id}`, undefined, adminToken)).status).toBe(204);
    expect(await refusedOnB(removed.token)).toBe(true);

    const signedOut = await signIn();
    expect((await call(a, 'POST', `/api/admin/users/${signedOut.id}/logout-all`, undefined, adminToken)).status).toBe(
      204,
    );
    expect(await refusedOnB(signedOut.token)).toBe(true);
  });

  it('ends the forward-auth session cookie on the other instance when the browser signs out, well inside the 5 s cache expiry', async () => {
    const username = await newUser();
    const signedIn = await fetch(`${a.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-requested-with': 'twofold' },
      body: JSON.stringify({ username, password: PASSWORD }),
    });
    const cookies = signedIn.headers.getSetCookie().map((line) => line.split(';')[0] ?? '');
    const session = cookies.find((c) => c.startsWith('twofold_session='));
    const refresh = cookies.find((c) => c.startsWith('twofold_refresh='));
    expect(session && refresh).toBeTruthy();
    const forwardOnB = async () =>
      (
        await fetch(`${b.url}/api/auth/forward`, {
          headers: { cookie: session ?? '', 'x-original-url': 'https://app.example.com/' },
        })
      ).status;
    // Cached as live on b, then ended on a: only the revocation bus can tell b before its cache entry expires.
    expect(await forwardOnB()).toBe(200);
    const out = await fetch(`${a.url}/api/auth/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-requested-with': 'twofold', cookie: refresh ?? '' },
      body: '{}',
    });
    expect(out.status).toBe(204);
    expect(await eventually(async () => (await forwardOnB()) === 401, 1500)).toBe(true);
  });

  it("applies a role change made on one instance to the other's cached sessions through Redis, well inside the 5 s cache expiry", async () => {
    const promote = async (username: string) =>
      database.handle.db.updateTable('users').set({ role: 'admin' }).where('username', '=', username).execute();
    const adminName = await newUser();
    const userName = await newUser();
    await promote(adminName);
    await promote(userName);
    const adminToken = (
      (await call(a, 'POST', '/api/auth/login', { username: adminName, password: PASSWORD })).body as {
        access_token: string;
      }
    ).access_token;
    const user = (await call(b, 'POST', '/api/auth/login', { username: userName, password: PASSWORD })).body as {
      access_token: string;
      user: { id: number };
    };
    const product = { name: 'Widget', description: 'A fine widget', price: 1, quantity: 1 };
    expect((await call(b, 'POST', '/api/products', product, user.access_token)).status).toBe(201);
    expect((await call(a, 'PATCH', `/api/admin/users/${user.user.id}`, { role: 'user' }, adminToken)).status).toBe(200);
    expect(
      await eventually(
        async () =>
          (await call(b, 'GET', '/api/user/me', undefined, user.access_token)).status === 200 &&
          (await call(b, 'POST', '/api/products', product, user.access_token)).status === 403,
        1500,
      ),
    ).toBe(true);
  });

  it('applies a role change made with the CLI (user set-role) on every instance through Redis, well inside the 5 s cache expiry', async () => {
    const userName = await newUser();
    await database.handle.db.updateTable('users').set({ role: 'admin' }).where('username', '=', userName).execute();
    const user = (await call(b, 'POST', '/api/auth/login', { username: userName, password: PASSWORD })).body as {
      access_token: string;
    };
    const product = { name: 'Widget', description: 'A fine widget', price: 1, quantity: 1 };
    expect((await call(a, 'POST', '/api/products', product, user.access_token)).status).toBe(201);
    expect((await call(b, 'POST', '/api/products', product, user.access_token)).status).toBe(201);
    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'user', 'set-role', userName, 'user'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          ...TEST_SECRETS,
          DATABASE_URL: database.url,
          REDIS_URL,
          LOG_LEVEL: 'warn',
        },
      },
    );
    expect(await new Promise((resolve) => cli.once('close', resolve))).toBe(0);
    // The CLI publishes before it exits: both instances must already know (the cache entries made
    // by the writes above are only the CLI's run time old, well under their 5 s expiry).
    for (const instance of [a, b]) {
      expect(
        await eventually(
          async () => (await call(instance, 'POST', '/api/products', product, user.access_token)).status === 403,
          500,
        ),
      ).toBe(true);
    }
  });
});
