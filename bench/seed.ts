import type { App } from '../src/http/server.js';

export const BENCH_PASSWORD = 'bench-password-violet-anchor-42';

export interface SeedOptions {
  users: number;
  products: number;
}

export interface Seeded {
  usernames: string[];
  accessToken: string;
}

/** Seeds through the public API (app.inject), so every row is exactly what real traffic would write. */
export async function seed(app: App, options: SeedOptions): Promise<Seeded> {
  const usernames = Array.from({ length: options.users }, (_, i) => `bench_user_${i + 1}`);
  // A few at a time: each registration is a real argon2id hash on the libuv thread pool.
  await inBatches(usernames, 8, (username) => expectStatus(app.inject({ method: 'POST', url: '/api/auth/register', payload: { username, password: BENCH_PASSWORD } }), 201));

  const login = await expectStatus(app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: usernames[0], password: BENCH_PASSWORD } }), 200);
  const accessToken = (JSON.parse(login) as { access_token: string }).access_token;
  const headers = { authorization: `Bearer ${accessToken}` };

  const indexes = Array.from({ length: options.products }, (_, i) => i + 1);
  await inBatches(indexes, 50, (i) =>
    expectStatus(app.inject({ method: 'POST', url: '/api/products', headers, payload: { name: `Product ${i}`, description: `Seeded product number ${i}`, price: i + 0.99, quantity: i % 100 } }), 201),
  );
  return { usernames, accessToken };
}

async function expectStatus(response: Promise<{ statusCode: number; body: string }>, status: number): Promise<string> {
  const { statusCode, body } = await response;
  if (statusCode !== status) throw new Error(`seeding: expected ${status}, got ${statusCode}: ${body}`);
  return body;
}

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}
