import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { PASSWORD, TEST_SECRETS, buildTestApp, register, signUp, uniqueName, type TestApp } from '../support/app.js';

/** NIST SP 800-63B §5.1.1.2 as the service applies it at registration and password change. */

const COMMON_PASSWORDS = new Set(readFileSync(new URL('../../src/modules/accounts/common-passwords.txt', import.meta.url), 'utf8').split('\n'));

// Not in the common list, no pattern a blocklist would hold: the length is the only variable.
function passwordOfLength(length: number): string {
  return 'Zq8!xv3k'.repeat(Math.ceil(length / 8)).slice(0, length);
}

describe('password policy over HTTP on sqlite', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t?.close());

  async function expectPasswordRefused(username: string, password: string, why: RegExp): Promise<void> {
    const response = await register(t.app, username, password);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toEqual({ error: 'validation_failed', message: expect.any(String), fields: { password: expect.stringMatching(why) } });
    expect(await t.database.handle.db.selectFrom('users').select('id').where('username_normalized', '=', username.toLowerCase()).execute()).toHaveLength(0);
  }

  async function expectPasswordAccepted(password: string): Promise<void> {
    const username = uniqueName('ok');
    const response = await register(t.app, username, password);
    expect(response.statusCode, response.body).toBe(201);
    const signIn = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
    expect(signIn.statusCode).toBe(200);
  }

  it('refuses a 7-character password', async () => {
    await expectPasswordRefused(uniqueName('short'), passwordOfLength(7), /at least 8/);
  });

  it('refuses a 129-character password', async () => {
    await expectPasswordRefused(uniqueName('long'), passwordOfLength(129), /at most 128/);
  });

  it('accepts passwords of 8 and of 128 characters', async () => {
    await expectPasswordAccepted(passwordOfLength(8));
    await expectPasswordAccepted(passwordOfLength(128));
  });

  it('counts characters, not UTF-16 units: 7 emoji are too short, 8 and 128 fit', async () => {
    await expectPasswordRefused(uniqueName('emoji'), '🔑'.repeat(7), /at least 8/);
    await expectPasswordAccepted('🔑'.repeat(8));
    await expectPasswordAccepted('🔑'.repeat(128));
    await expectPasswordRefused(uniqueName('emoji'), '🔑'.repeat(129), /at most 128/);
  });

  it.each(['password123', 'qwertyuiop', 'iloveyou1'])('refuses the common password %s', async (password) => {
    expect(COMMON_PASSWORDS.has(password)).toBe(true);
    await expectPasswordRefused(uniqueName('common'), password, /common/);
  });

  it('refuses a common password whatever its case', async () => {
    await expectPasswordRefused(uniqueName('common'), 'PassWord123', /common/);
    await expectPasswordRefused(uniqueName('common'), 'QWERTYUIOP', /common/);
  });

  it('refuses the username as the password, in any case', async () => {
    const username = uniqueName('SameAsName');
    await expectPasswordRefused(username, username, /username/);
    await expectPasswordRefused(username, username.toLowerCase(), /username/);
    await expectPasswordRefused(username, username.toUpperCase(), /username/);
  });

  it('applies the same policy to a changed password', async () => {
    const session = await signUp(t.app);
    for (const [newPassword, why] of [[passwordOfLength(7), /at least 8/], [passwordOfLength(129), /at most 128/], ['iloveyou1', /common/], [session.username, /username/]] as const) {
      const response = await t.app.inject({ method: 'POST', url: '/api/auth/password/change', headers: session.auth, payload: { current_password: PASSWORD, new_password: newPassword } });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json()).toEqual({ error: 'validation_failed', message: expect.any(String), fields: { new_password: expect.stringMatching(why) } });
    }
    const changed = await t.app.inject({ method: 'POST', url: '/api/auth/password/change', headers: session.auth, payload: { current_password: PASSWORD, new_password: passwordOfLength(128) } });
    expect(changed.statusCode).toBe(204);
  });
});

describe('password storage', () => {
  it('stores passwords with argon2id at OWASP parameters', async () => {
    // The real hasher, as production builds it: no override.
    const config = loadConfig({ NODE_ENV: 'test', ...TEST_SECRETS, DATABASE_URL: 'sqlite::memory:' });
    const { app, database, hasher } = await createApp(config);
    try {
      const username = uniqueName('argon');
      const created = await register(app, username);
      expect(created.statusCode, created.body).toBe(201);
      const row = await database.db.selectFrom('users').select('password_hash').where('id', '=', created.json().id).executeTakeFirstOrThrow();

      // OWASP Password Storage Cheat Sheet: argon2id with m ≥ 19 MiB, t ≥ 2, p ≥ 1.
      const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(row.password_hash);
      expect(match, row.password_hash).not.toBeNull();
      const [, memoryKiB, iterations, parallelism] = match!.map(Number);
      expect(memoryKiB).toBeGreaterThanOrEqual(19456);
      expect(iterations).toBeGreaterThanOrEqual(2);
      expect(parallelism).toBeGreaterThanOrEqual(1);
      expect(row.password_hash).not.toContain(PASSWORD);
      expect(hasher.description).toMatch(/^argon2id /);

      // The stored hash is what login checks against.
      const signIn = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: PASSWORD } });
      expect(signIn.statusCode).toBe(200);
      const wrong = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: `${PASSWORD}!` } });
      expect(wrong.statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });
});
