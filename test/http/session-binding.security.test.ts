import { spawn } from 'node:child_process';
import path from 'node:path';
import { SignJWT, decodeJwt } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRETS, buildTestApp, login, signUp, uniqueName, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';

/**
 * What an access token may do is decided by the session check on every request, not by the
 * claims signed into the token: the token's user must own the session, the user must still exist,
 * its `iat` may not lie in the future, and the role in force is the one stored now.
 */

const dialects = await testDialects();
const HS256_SECRET = new TextEncoder().encode(TEST_SECRETS.JWT_SECRET);
const ROOT = path.resolve(import.meta.dirname, '../..');
const PRODUCT = { name: 'Widget', description: 'A fine widget', price: 9.99, quantity: 1 };

function runCli(args: string[], env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', NODE_ENV: 'test', ...TEST_SECRETS, ...env },
    timeout: 60_000,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

describe.each(dialects)('session binding, deleted users and role changes on %s', (dialect) => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    // Only admins may write products here, so a demotion to `user` takes the right away.
    t = await buildTestApp({ dialect, env: { PRODUCT_WRITE_ROLES: 'admin' } });
    admin = await signUpAdmin();
  });
  afterAll(async () => t?.close());

  const db = () => t.database.handle.db;
  const createProduct = (auth: { authorization: string }) =>
    t.app.inject({ method: 'POST', url: '/api/products', headers: auth, payload: PRODUCT });

  async function signUpAdmin(): Promise<Session & { username: string }> {
    const created = await signUp(t.app, uniqueName('admin'));
    await db().updateTable('users').set({ role: 'admin' }).where('id', '=', created.userId).execute();
    return { ...(await login(t.app, created.username)), username: created.username };
  }

  async function forge(from: string, claims: Record<string, unknown>): Promise<string> {
    return new SignJWT({ ...decodeJwt(from), ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(HS256_SECRET);
  }

  it("a token whose sid names another user's session never rides on that session's cached 'active'", async () => {
    const owner = await signUp(t.app);
    const other = await signUp(t.app);
    // The owner's session is now cached as active.
    expect((await t.app.inject({ url: '/api/user/me', headers: owner.auth })).statusCode).toBe(200);
    const crossed = await forge(other.accessToken, { sid: decodeJwt(owner.accessToken).sid });
    const answer = await t.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${crossed}` } });
    expect(answer.statusCode).toBe(401);
    expect(answer.json().error).toBe('unauthorized');
    const verified = await t.app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token: crossed } });
    expect(verified.json()).toEqual({ valid: false, reason: 'revoked' });
    // The real owner is not disturbed by the attempt.
    expect((await t.app.inject({ url: '/api/user/me', headers: owner.auth })).statusCode).toBe(200);
  });

  it("a token whose sid names another user's session is refused when that session is not cached either", async () => {
    const owner = await signUp(t.app);
    const other = await signUp(t.app);
    // No bearer request has used the owner's session yet: the check reads the database.
    const crossed = await forge(other.accessToken, { sid: decodeJwt(owner.accessToken).sid });
    const verified = await t.app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token: crossed } });
    expect(verified.json()).toEqual({ valid: false, reason: 'revoked' });
    const answer = await t.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${crossed}` } });
    expect(answer.statusCode).toBe(401);
    expect(answer.json().error).toBe('unauthorized');
    expect((await t.app.inject({ url: '/api/user/me', headers: owner.auth })).statusCode).toBe(200);
  });

  it('refuses an access token still in date whose session has reached its end (REFRESH_TOKEN_TTL shorter than ACCESS_TOKEN_TTL)', async () => {
    const short = await buildTestApp({ dialect, env: { ACCESS_TOKEN_TTL: '1h', REFRESH_TOKEN_TTL: '10m' } });
    try {
      const user = await signUp(short.app);
      expect((await short.app.inject({ url: '/api/user/me', headers: user.auth })).statusCode).toBe(200);
      short.clock.advance(11 * 60_000);
      // The token's exp is 49 minutes away; the session ended a minute ago.
      const me = await short.app.inject({ url: '/api/user/me', headers: user.auth });
      expect(me.statusCode).toBe(401);
      expect(me.json().error).toBe('unauthorized');
      const verified = await short.app.inject({
        method: 'POST',
        url: '/api/auth/token/verify',
        payload: { token: user.accessToken },
      });
      expect(verified.json()).toEqual({ valid: false, reason: 'revoked' });
      expect(
        (
          await short.app.inject({
            method: 'POST',
            url: '/api/auth/refresh',
            payload: { refresh_token: user.refreshToken },
          })
        ).json().error,
      ).toBe('refresh_token_invalid');
    } finally {
      await short.close();
    }
  });

  it('refuses an access token issued more than 60 s in the future, and accepts one within the allowed skew', async () => {
    const user = await signUp(t.app);
    const now = Math.floor(t.clock.now().getTime() / 1000);
    const future = await forge(user.accessToken, { iat: now + 120, exp: now + 720 });
    const answer = await t.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${future}` } });
    expect(answer.statusCode).toBe(401);
    expect(answer.json().error).toBe('unauthorized');
    const skewed = await forge(user.accessToken, { iat: now + 30, exp: now + 630 });
    expect(
      (await t.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${skewed}` } })).statusCode,
    ).toBe(200);
  });

  it('a token whose user was deleted in SQL answers 401 to a product write, never 500', async () => {
    const user = await signUpAdmin();
    // The session check is cached now; then the account disappears behind the service's back.
    expect((await createProduct(user.auth)).statusCode).toBe(201);
    await sql`delete from users where id = ${user.userId}`.execute(db());
    const answer = await createProduct(user.auth);
    expect(answer.statusCode, answer.body).toBe(401);
    expect(answer.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });
    // Once the cached check expires the session itself is gone.
    t.clock.advance(5_001);
    expect((await t.app.inject({ url: '/api/user/me', headers: user.auth })).statusCode).toBe(401);
  });

  it('a user demoted by PATCH /api/admin/users/:id loses product writes on the very next request', async () => {
    const user = await signUpAdmin();
    expect((await createProduct(user.auth)).statusCode).toBe(201);
    const demoted = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${user.userId}`,
      headers: admin.auth,
      payload: { role: 'user' },
    });
    expect(demoted.statusCode, demoted.body).toBe(200);
    const refused = await createProduct(user.auth);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('forbidden');
    // Still signed in (reading is allowed); promoted again, the right is back at once.
    expect((await t.app.inject({ url: '/api/products', headers: user.auth })).statusCode).toBe(200);
    await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${user.userId}`,
      headers: admin.auth,
      payload: { role: 'admin' },
    });
    expect((await createProduct(user.auth)).statusCode).toBe(201);
  });

  // The CLI is another process: the in-memory SQLite test database cannot be shared with it, so this one is
  // defined only for the server databases (not skipped: with CI=true nothing may be skipped).
  (dialect === 'sqlite' ? (): void => undefined : it)(
    'a user demoted by the CLI (user set-role) loses product writes within the session-cache bound (5 s)',
    async () => {
      const user = await signUpAdmin();
      expect((await createProduct(user.auth)).statusCode).toBe(201);
      const result = await runCli(['user', 'set-role', user.username, 'user'], { DATABASE_URL: t.database.url });
      expect(result.status, result.stderr).toBe(0);
      t.clock.advance(5_001);
      const refused = await createProduct(user.auth);
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error).toBe('forbidden');
    },
  );
});
