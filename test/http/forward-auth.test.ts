import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, login, register, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import {
  BROWSER,
  FORWARD_ENV,
  browserLogin,
  forward,
  refreshCookieOf,
  sessionCookieLine,
  sessionCookieOf,
} from '../support/forward-auth.js';
import { bearer, enableTOTP, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();

/**
 * Forward authentication (docs/forward-auth.md): the browser session cookie a sign-in in the web UI leaves, and
 * GET /api/auth/forward, which a reverse proxy asks on every request it protects — who is signed in, or 401, or a
 * redirect to the sign-in page; the per-host rules; the end of the session ending the cookie.
 */
describe.each(dialects)('forward authentication on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: FORWARD_ENV });
  });
  afterAll(async () => t?.close());

  async function signedInBrowser(): Promise<{ username: string; userId: number; cookie: string; refresh: string }> {
    const username = uniqueName('fwd');
    const { userId } = await signUp(t.app, username);
    const response = await browserLogin(t.app, username);
    expect(response.statusCode).toBe(200);
    return { username, userId, cookie: sessionCookieOf(response), refresh: refreshCookieOf(response) };
  }

  it('a browser sign-in sets the session cookie for the parent domain (HttpOnly, Secure, SameSite=Lax); an API client gets none', async () => {
    const username = uniqueName('fwd');
    await signUp(t.app, username);
    const line = sessionCookieLine(await browserLogin(t.app, username));
    expect(line).toMatch(/^twofold_session=v1\.\d+\.\d+\.[0-9a-f]{64};/);
    const attributes =
      line
        ?.split(';')
        .slice(1)
        .map((a) => a.trim()) ?? [];
    expect(attributes).toEqual(
      expect.arrayContaining(['Max-Age=2592000', 'Domain=example.com', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']),
    );
    const api = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password: PASSWORD },
    });
    expect(api.statusCode).toBe(200);
    expect(sessionCookieLine(api)).toBeUndefined();
  });

  it('answers 200 with who is signed in, in headers and body, and keeps nothing in caches', async () => {
    const { username, cookie } = await signedInBrowser();
    const response = await forward(t.app, cookie, { url: 'https://app.example.com/dashboard?x=1' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-auth-user']).toBe(username);
    expect(response.headers['x-auth-email']).toBe('');
    expect(response.headers['x-auth-role']).toBe('user');
    expect(response.headers['x-auth-amr']).toBe('pwd');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(response.json()).toEqual({ username, email: null, role: 'user', amr: ['pwd'] });
    expect(response.body).not.toContain(cookie);
  });

  it('sends an address only once the person proved it', async () => {
    const username = uniqueName('fwd');
    const address = `${username}@example.org`;
    expect((await register(t.app, username, PASSWORD, address)).statusCode).toBe(201);
    const { userId } = await login(t.app, username);
    const cookie = sessionCookieOf(await browserLogin(t.app, username));
    const unproven = await forward(t.app, cookie, { url: 'https://app.example.com/' });
    expect(unproven.headers['x-auth-email']).toBe('');
    expect(unproven.json().email).toBeNull();
    await t.database.handle.db.updateTable('users').set({ email_verified: 1 }).where('id', '=', userId).execute();
    t.clock.advance(6000); // past the few seconds the name and address are kept
    const proven = await forward(t.app, cookie, { url: 'https://app.example.com/' });
    expect(proven.headers['x-auth-email']).toBe(address);
  });

  it('answers 401 in the error format without a cookie, and a redirect to the sign-in page when asked for one', async () => {
    const refused = await forward(t.app, undefined, { url: 'https://app.example.com/x' });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({ error: 'unauthorized', message: 'Sign in to Twofold first.' });
    // nginx passes on only a 401 but reads its headers: the sign-in address comes along in Location.
    expect(refused.headers.location).toBe(
      `https://auth.example.com/app/login?redirect=${encodeURIComponent('https://app.example.com/x')}`,
    );
    expect((await forward(t.app, undefined)).headers.location).toBeUndefined();
    const redirected = await forward(t.app, undefined, { url: 'https://app.example.com/x?y=1', redirect: true });
    expect(redirected.statusCode).toBe(302);
    expect(redirected.headers.location).toBe(
      `https://auth.example.com/app/login?redirect=${encodeURIComponent('https://app.example.com/x?y=1')}`,
    );
    // nginx's style: the whole address in one header.
    const nginx = await forward(t.app, undefined, {
      redirect: true,
      headers: { 'x-original-url': 'https://wiki.example.com:8443/page' },
    });
    expect(nginx.headers.location).toBe(
      `https://auth.example.com/app/login?redirect=${encodeURIComponent('https://wiki.example.com:8443/page')}`,
    );
  });

  it('the sign-in after a second factor sets the cookie too, and its amr satisfies a host that asks for two factors', async () => {
    const username = uniqueName('fwd');
    const session = await signUp(t.app, username);
    const { secret } = await enableTOTP(t, session);
    const passwordOnly = await browserLogin(t.app, username);
    expect(sessionCookieLine(passwordOnly)).toBeUndefined();
    const second = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/login',
      headers: BROWSER,
      payload: { mfa_token: passwordOnly.json().mfa_token, code: totpNow(t, secret) },
    });
    expect(second.statusCode).toBe(200);
    const ok = await forward(t.app, sessionCookieOf(second), { url: 'https://secure.example.com/' });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-auth-amr']).toBe('pwd,otp');
  });

  it('refuses with 403 a signed-in person a host rule does not admit: role, two factors, or no host named', async () => {
    const { userId, cookie } = await signedInBrowser();
    for (const url of ['https://admin.example.com/', 'https://secure.example.com/', 'https://db.ops.example.com/']) {
      const response = await forward(t.app, cookie, { url, redirect: true });
      expect(response.statusCode, url).toBe(403);
      expect(response.json().error).toBe('forbidden');
    }
    expect((await forward(t.app, cookie)).statusCode).toBe(403);
    expect((await forward(t.app, cookie, { url: 'https://example.com/' })).statusCode).toBe(200);
    // A role given later acts at once (the session check reads the role as stored now), without a new sign-in.
    const admin = await signUp(t.app, uniqueName('boss'));
    await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.userId).execute();
    const promote = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${userId}`,
      headers: bearer((await login(t.app, admin.username)).accessToken),
      payload: { role: 'admin' },
    });
    expect(promote.statusCode, promote.body).toBe(200);
    const promoted = await forward(t.app, cookie, { url: 'https://admin.example.com/' });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.headers['x-auth-role']).toBe('admin');
    // Admin and two factors: the role alone is not enough.
    expect((await forward(t.app, cookie, { url: 'https://db.ops.example.com/' })).statusCode).toBe(403);
  });

  it('a browser refresh sets the cookie again; a browser sign-out clears it and the old value no longer passes', async () => {
    const { cookie, refresh } = await signedInBrowser();
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      headers: { ...BROWSER, cookie: `twofold_refresh=${refresh}` },
      payload: {},
    });
    expect(refreshed.statusCode).toBe(200);
    expect(sessionCookieOf(refreshed)).toBe(cookie);
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { ...BROWSER, cookie: `twofold_refresh=${refreshCookieOf(refreshed)}` },
      payload: {},
    });
    expect(out.statusCode).toBe(204);
    expect(sessionCookieLine(out)).toMatch(/^twofold_session=;.*Domain=example\.com/);
    expect((await forward(t.app, cookie)).statusCode).toBe(401);
  });

  it('signing out everywhere, a password change or the deletion of the account ends the cookie', async () => {
    const everywhere = await signedInBrowser();
    const api = await login(t.app, everywhere.username);
    expect((await forward(t.app, everywhere.cookie, { url: 'https://example.com/' })).statusCode).toBe(200);
    await t.app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: api.auth });
    expect((await forward(t.app, everywhere.cookie, { url: 'https://example.com/' })).statusCode).toBe(401);

    const changed = await signedInBrowser();
    const other = await login(t.app, changed.username);
    expect((await forward(t.app, changed.cookie, { url: 'https://example.com/' })).statusCode).toBe(200);
    const change = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/change',
      headers: other.auth,
      payload: { current_password: PASSWORD, new_password: 'another long passphrase 7' },
    });
    expect(change.statusCode).toBe(204);
    expect((await forward(t.app, changed.cookie, { url: 'https://example.com/' })).statusCode).toBe(401);

    const deleted = await signedInBrowser();
    const owner = await login(t.app, deleted.username);
    expect((await forward(t.app, deleted.cookie, { url: 'https://example.com/' })).statusCode).toBe(200);
    const gone = await t.app.inject({
      method: 'DELETE',
      url: '/api/user/me',
      headers: { ...owner.auth, ...BROWSER },
      payload: { confirm: deleted.username },
    });
    expect(gone.statusCode, gone.body).toBe(204);
    expect(sessionCookieLine(gone)).toMatch(/^twofold_session=;/);
    expect((await forward(t.app, deleted.cookie, { url: 'https://example.com/' })).statusCode).toBe(401);
  });

  it('sends the person back after the sign-in only to hosts under FORWARD_AUTH_DOMAINS', async () => {
    const back = (url: string) =>
      t.app.inject({ method: 'GET', url: `/api/auth/forward/return?url=${encodeURIComponent(url)}` });
    expect((await back('https://app.example.com/x?y=1#z')).headers.location).toBe('https://app.example.com/x?y=1#z');
    expect((await back('https://example.com/')).headers.location).toBe('https://example.com/');
    expect((await back('https://evil.com/')).headers.location).toBe('/');
    expect((await back('http://app.example.com/')).headers.location).toBe('/');
    const missing = await t.app.inject({ method: 'GET', url: '/api/auth/forward/return' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toBe('validation_failed');
  });
});
