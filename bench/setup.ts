import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ROOT } from './processes.js';
import { BENCH_PASSWORD } from './seed.js';

export function build(): void {
  console.log('building (npm run build) …');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * Twofold's environment for a run: production mode on `databaseUrl` (default: a SQLite file in
 * `dataDir`), fresh secrets. Instances that must accept each other's tokens share one environment.
 */
export function benchEnv(
  dataDir: string,
  databaseUrl = `sqlite:${path.join(dataDir, 'twofold.db')}`,
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    TWOFOLD_DATA_DIR: dataDir,
    JWT_ALG: 'HS256',
    JWT_SECRET: randomBytes(48).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // Long enough that the tokens minted before the runs outlive them.
    ACCESS_TOKEN_TTL: '12h',
    LOG_LEVEL: 'warn',
    // All load comes from one address (127.0.0.1): the per-IP limits would measure the limiter.
    RATE_LIMIT_LOGIN: '1000000',
    RATE_LIMIT_REGISTER: '1000000',
    RATE_LIMIT_RECOVERY: '1000000',
  };
}

export async function postJSON<T>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Signs `username` in with the bench password; the Bearer header for the read and write scenarios. */
export async function bearerFor(baseUrl: string, username: string): Promise<{ authorization: string }> {
  const signedIn = await postJSON<{ access_token: string }>(`${baseUrl}/api/auth/login`, {
    username,
    password: BENCH_PASSWORD,
  });
  return { authorization: `Bearer ${signedIn.access_token}` };
}

/** One refresh chain per entry: a fresh sign-in each (a session of its own), rotated by the refresh scenario. */
export async function refreshChains(baseUrl: string, usernames: string[], count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      postJSON<{ refresh_token: string }>(`${baseUrl}/api/auth/login`, {
        username: usernames[i % usernames.length],
        password: BENCH_PASSWORD,
      }).then((t) => t.refresh_token),
    ),
  );
}
