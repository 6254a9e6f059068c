import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { App } from '../../src/http/server.js';
import type { PasswordHasher } from '../../src/lib/password-hasher.js';
import {
  PASSWORD,
  TEST_SECRETS,
  buildTestApp,
  fastHasher,
  register,
  uniqueName,
  type TestApp,
} from '../support/app.js';
import { createTestDatabase, testDialects } from '../support/databases.js';

const dialects = await testDialects();

async function listen(app: App): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('expected a TCP address');
  return `http://127.0.0.1:${address.port}`;
}

function postJSON(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * fastHasher whose verify() waits at a gate once armed: logins become in-flight requests that
 * stay open exactly as long as the test wants, with no sleeping and no timing assumptions.
 */
function createGatedHasher(expected: number): {
  hasher: PasswordHasher;
  arm(): void;
  allWaiting: Promise<void>;
  release(): void;
} {
  let armed = false;
  let waiting = 0;
  let release!: () => void;
  let allArrived!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const allWaiting = new Promise<void>((resolve) => (allArrived = resolve));
  const hasher: PasswordHasher = {
    description: fastHasher.description,
    hash: (password) => fastHasher.hash(password),
    verifyDummy: (password) => fastHasher.verifyDummy(password),
    needsRehash: (passwordHash) => fastHasher.needsRehash(passwordHash),
    async verify(passwordHash, password) {
      if (armed) {
        waiting += 1;
        if (waiting === expected) allArrived();
        await gate;
      }
      return fastHasher.verify(passwordHash, password);
    },
  };
  return { hasher, arm: () => (armed = true), allWaiting, release };
}

/** Yields to the event loop until the condition holds; a bounded loop, not a timer. */
async function until(condition: () => boolean, maxTurns = 10_000): Promise<void> {
  for (let turn = 0; turn < maxTurns && !condition(); turn++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition never held');
}

describe.each(dialects)('the app on a real socket on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
    base = await listen(t.app);
  });
  afterAll(async () => t?.close());

  it('registers, signs in and lists products over real HTTP', async () => {
    const username = uniqueName('net');
    const registered = await postJSON(`${base}/api/auth/register`, { username, password: PASSWORD });
    expect(registered.status).toBe(201);
    expect(registered.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await registered.json()).toMatchObject({ username, role: 'user' });

    const loggedIn = await postJSON(`${base}/api/auth/login`, { username, password: PASSWORD });
    expect(loggedIn.status).toBe(200);
    const tokens = (await loggedIn.json()) as { access_token: string; token_type: string };
    expect(tokens.token_type).toBe('Bearer');
    const authorization = `Bearer ${tokens.access_token}`;

    const created = await postJSON(
      `${base}/api/products`,
      { name: 'Socket lamp', price: 1.15, quantity: 2 },
      { authorization },
    );
    expect(created.status).toBe(201);
    expect(await created.text()).toContain('"price":1.15');

    const listed = await fetch(`${base}/api/products?q=socket%20LAMP`, { headers: { authorization } });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('x-content-type-options')).toBe('nosniff');
    const page = (await listed.json()) as { items: Array<{ name: string }>; total: number };
    expect(page.total).toBe(1);
    expect(page.items[0]?.name).toBe('Socket lamp');

    const anonymous = await fetch(`${base}/api/products`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });
  });

  it('answers malformed and mistyped bodies on the wire with the contract errors', async () => {
    const broken = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"username": "a",',
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ error: 'invalid_json', message: expect.any(String) });

    const text = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'username=a',
    });
    expect(text.status).toBe(415);
    expect(await text.json()).toEqual({ error: 'unsupported_media_type', message: expect.any(String) });
  });
});

describe.each(dialects)('graceful shutdown on %s', (dialect) => {
  it('finishes every in-flight login with 200 when the app closes, then refuses new connections', async () => {
    const inFlight = 10;
    const database = await createTestDatabase(dialect);
    const config = loadConfig({ NODE_ENV: 'test', ...TEST_SECRETS, DATABASE_URL: database.url });
    const gated = createGatedHasher(inFlight);
    // The app owns its database connection here, as in production: close() must not pull it away from in-flight
    // requests.
    const { app } = await createApp(config, { hasher: gated.hasher });
    let closed = false;
    try {
      await app.ready();
      const usernames = Array.from({ length: inFlight }, () => uniqueName('drain'));
      for (const username of usernames) expect((await register(app, username)).statusCode).toBe(201);
      const base = await listen(app);

      gated.arm();
      const logins = usernames.map(async (username) => {
        const response = await postJSON(`${base}/api/auth/login`, { username, password: PASSWORD });
        return { status: response.status, body: (await response.json()) as { access_token?: string } };
      });
      await gated.allWaiting;

      const closing = app.close().then(() => (closed = true));
      await until(() => !app.server.listening);
      expect(closed).toBe(false);
      gated.release();

      const results = await Promise.all(logins);
      expect(results.map((r) => r.status)).toEqual(Array(inFlight).fill(200));
      for (const result of results) expect(result.body.access_token).toEqual(expect.any(String));
      await closing;
      expect(closed).toBe(true);

      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } finally {
      gated.release();
      if (!closed) await app.close();
      await database.drop();
    }
  });
});
