import type { LightMyRequestResponse } from 'fastify';
import { createApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Dialect } from '../../src/db/create-database.js';
import { createManualClock, type ManualClock } from '../../src/lib/clock.js';
import { createArgon2Hasher } from '../../src/lib/password-hasher.js';
import type { App } from '../../src/http/server.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

/** Every test request comes from 127.0.0.1: per-IP limits are lifted except where a suite tests them. */
export const UNLIMITED = {
  RATE_LIMIT_LOGIN: '1000000',
  RATE_LIMIT_REGISTER: '1000000',
  RATE_LIMIT_RECOVERY: '1000000',
  RATE_LIMIT_TOKEN: '1000000',
};

export const TEST_SECRETS = {
  JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-0123456789',
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

/** Real argon2id with tiny parameters: the same code path, fast enough for hundreds of logins. */
export const fastHasher = createArgon2Hasher({ memoryKiB: 64, iterations: 1, parallelism: 1 });

export interface TestApp {
  app: App;
  clock: ManualClock;
  config: Config;
  database: TestDatabase;
  close(): Promise<void>;
}

export async function buildTestApp(
  options: { dialect?: Dialect; env?: Record<string, string> } = {},
): Promise<TestApp> {
  const database = await createTestDatabase(options.dialect ?? 'sqlite');
  const config = loadConfig({
    NODE_ENV: 'test',
    ...TEST_SECRETS,
    ...UNLIMITED,
    DATABASE_URL: database.url,
    ...options.env,
  });
  const clock = createManualClock(new Date('2026-01-15T12:00:00Z'));
  const { app } = await createApp(config, { clock, hasher: fastHasher, database: database.handle });
  await app.ready();
  return {
    app,
    clock,
    config,
    database,
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

export const PASSWORD = 'correct horse battery staple';

let counter = 0;
export function uniqueName(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

export async function register(
  app: App,
  username: string,
  password = PASSWORD,
  email?: string,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { username, password, ...(email ? { email } : {}) },
  });
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  userId: number;
  auth: { authorization: string };
}

/** Registers a fresh user and signs in. */
export async function signUp(app: App, username = uniqueName()): Promise<Session & { username: string }> {
  const created = await register(app, username);
  if (created.statusCode !== 201) throw new Error(`register failed: ${created.body}`);
  return { ...(await login(app, username)), username };
}

export async function login(app: App, username: string, password = PASSWORD): Promise<Session> {
  const response = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`);
  const body = response.json();
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    userId: body.user.id,
    auth: { authorization: `Bearer ${body.access_token}` },
  };
}
