import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey } from '../../src/lib/crypto.js';
import { buildTestApp, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { FORWARD_ENV, browserLogin, forward, sessionCookieOf } from '../support/forward-auth.js';

const dialects = await testDialects();

/**
 * The two properties forward authentication stands on. The session cookie cannot be forged, altered or moved to
 * another session (OWASP Session Management Cheat Sheet: session ids unpredictable and bound to the server's
 * state). The sign-in page sends people back only to hosts under FORWARD_AUTH_DOMAINS, judged on the address as
 * browsers parse it, never as a string (OWASP Unvalidated Redirects and Forwards Cheat Sheet).
 */
describe.each(dialects)('forward authentication cannot be fooled on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: FORWARD_ENV });
  });
  afterAll(async () => t?.close());

  const APP = { url: 'https://app.example.com/' };

  it('refuses a cookie whose session, user or MAC was changed, or one made with another key', async () => {
    const alice = await signUp(t.app, uniqueName('alice'));
    const bob = await signUp(t.app, uniqueName('bob'));
    const cookie = sessionCookieOf(await browserLogin(t.app, alice.username));
    const bobCookie = sessionCookieOf(await browserLogin(t.app, bob.username));
    expect((await forward(t.app, cookie, APP)).statusCode).toBe(200);
    const [version, sessionId, userId, mac] = cookie.split('.') as [string, string, string, string];
    const [, bobSession, bobUser] = bobCookie.split('.') as [string, string, string, string];
    const flipped = `${mac.slice(0, -1)}${mac.endsWith('0') ? '1' : '0'}`;
    const otherKey = createHmac('sha256', deriveKey(Buffer.alloc(32, 9), 'session-cookie'))
      .update(`v1.session-cookie.${bobSession}.${bobUser}`)
      .digest('hex');
    const forged = [
      `${version}.${sessionId}.${userId}.${flipped}`,
      // Another person's session with this cookie's MAC, and this session claimed for another user.
      `${version}.${bobSession}.${bobUser}.${mac}`,
      `${version}.${sessionId}.${bobUser}.${mac}`,
      `${version}.${bobSession}.${userId}.${mac}`,
      // A MAC made with a key that is not this server's.
      `${version}.${bobSession}.${bobUser}.${otherKey}`,
      `v2.${sessionId}.${userId}.${mac}`,
      `${version}.${sessionId}.${userId}`,
      `${version}.${sessionId}.${userId}.${mac}.extra`,
      `${version}.${sessionId}.${userId}.${mac.toUpperCase()}`,
      `${version}.-${sessionId}.${userId}.${mac}`,
      `${cookie}${'0'.repeat(4096)}`,
      '',
    ];
    for (const value of forged) {
      const response = await forward(t.app, value, APP);
      expect(response.statusCode, value.slice(0, 120)).toBe(401);
      expect(response.headers['x-auth-user']).toBeUndefined();
    }
    // The proxy's own headers never stand in for the cookie.
    const spoofed = await forward(t.app, undefined, { ...APP, headers: { 'x-auth-user': alice.username } });
    expect(spoofed.statusCode).toBe(401);
  });

  it('a cookie sent twice, or beside a broken one, is judged by what the server parses, never a 500', async () => {
    const { username } = await signUp(t.app, uniqueName('carol'));
    const cookie = sessionCookieOf(await browserLogin(t.app, username));
    for (const header of [`twofold_session=${cookie}; twofold_session=garbage`, 'twofold_session="%zz"; a=b']) {
      const response = await t.app.inject({
        url: '/api/auth/forward',
        headers: { cookie: header, 'x-original-url': APP.url },
      });
      expect([200, 401], header).toContain(response.statusCode);
    }
  });

  it('redirects to the sign-in page only for hosts under FORWARD_AUTH_DOMAINS, however the host is disguised', async () => {
    const signIn = (original: string) => `https://auth.example.com/app/login?redirect=${encodeURIComponent(original)}`;
    const allowed: Array<[Record<string, string>, string]> = [
      [{ 'x-original-url': 'https://example.com/' }, 'https://example.com/'],
      [{ 'x-original-url': 'https://deep.app.example.com:8443/a?b=c' }, 'https://deep.app.example.com:8443/a?b=c'],
      [{ 'x-original-url': 'https://APP.Example.COM/' }, 'https://app.example.com/'],
      // Full-width dots are dots to the URL parser (IDNA mapping), as to the browser.
      [{ 'x-original-url': 'https://app\uff0eexample\u3002com/' }, 'https://app.example.com/'],
      // A backslash ends the host for the parser and the browser alike: this is example.com's path /evil.com/.
      [
        { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com\\evil.com', 'x-forwarded-uri': '/' },
        'https://example.com/evil.com/',
      ],
    ];
    for (const [headers, original] of allowed) {
      const response = await forward(t.app, undefined, { redirect: true, headers });
      expect(response.statusCode, JSON.stringify(headers)).toBe(302);
      expect(response.headers.location).toBe(signIn(original));
    }
    const refused: Array<Record<string, string>> = [
      { 'x-original-url': 'https://evil.com?.example.com/' },
      { 'x-original-url': 'https://example.com.evil.com/' },
      { 'x-original-url': 'https://evilexample.com/' },
      { 'x-original-url': 'https://example.com@evil.com/' },
      { 'x-original-url': 'https://evil.com\\@example.com/' },
      { 'x-original-url': 'https://evil.com\\.example.com/' },
      { 'x-original-url': 'https://evil.com#.example.com' },
      { 'x-original-url': 'https://user:pass@app.example.com/' },
      { 'x-original-url': 'https://ex\u0430mple.com/' },
      { 'x-original-url': 'https://example.com./' },
      { 'x-original-url': 'javascript://example.com/%0aalert(1)' },
      { 'x-original-url': '//example.com/' },
      { 'x-original-url': 'http://app.example.com/' },
      { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.com', 'x-forwarded-uri': '/.example.com' },
      { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com', 'x-forwarded-uri': '@evil.com/' },
      { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com:443@evil.com', 'x-forwarded-uri': '/' },
      { 'x-forwarded-proto': 'ftp', 'x-forwarded-host': 'example.com', 'x-forwarded-uri': '/' },
      { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com:99999', 'x-forwarded-uri': '/' },
      {},
    ];
    for (const headers of refused) {
      for (const redirect of [true, false]) {
        const response = await forward(t.app, undefined, { redirect, headers });
        expect(response.statusCode, JSON.stringify(headers)).toBe(401);
        expect(response.headers.location, JSON.stringify(headers)).toBeUndefined();
      }
    }
  });

  it('refuses a request whose headers name two different hosts: a client cannot trade a ruled host for a free one', async () => {
    const { username } = await signUp(t.app, uniqueName('dave'));
    const cookie = sessionCookieOf(await browserLogin(t.app, username));
    // Traefik and Caddy set X-Forwarded-*, and pass a client's X-Original-URL through; nginx sets X-Original-URL, and
    // passes a client's X-Forwarded-Host through.
    const traefik = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'admin.example.com', 'x-forwarded-uri': '/' };
    const nginx = { 'x-original-url': 'https://admin.example.com/' };
    for (const headers of [
      { ...traefik, 'x-original-url': 'https://app.example.com/' },
      { ...nginx, 'x-forwarded-host': 'app.example.com' },
      { ...nginx, 'x-forwarded-host': 'app.example.com', 'x-forwarded-proto': 'https' },
      { ...traefik, 'x-original-url': 'not a url' },
    ]) {
      const response = await forward(t.app, cookie, { headers });
      expect(response.statusCode, JSON.stringify(headers)).toBe(403);
      expect(response.json().message).toMatch(/disagree/);
      // Nor is anyone sent to the sign-in page on such a request.
      const signedOut = await forward(t.app, undefined, { headers, redirect: true });
      expect(signedOut.statusCode, JSON.stringify(headers)).toBe(401);
      expect(signedOut.headers.location).toBeUndefined();
    }
    // Headers that agree (a CDN's X-Forwarded-Host before nginx) are fine.
    const agreeing = await forward(t.app, cookie, {
      headers: { 'x-original-url': 'https://app.example.com/a', 'x-forwarded-host': 'app.example.com' },
    });
    expect(agreeing.statusCode).toBe(200);
  });

  it("the sign-in page's return goes only to hosts under FORWARD_AUTH_DOMAINS, to the address it checked", async () => {
    const back = async (url: string) =>
      (await t.app.inject({ url: `/api/auth/forward/return?url=${encodeURIComponent(url)}` })).headers.location;
    for (const url of [
      'https://evil.com?.example.com',
      'https://example.com.evil.com/',
      'https://example.com@evil.com/',
      'https://evil.com\\@example.com/',
      'https:\\\\evil.com\\example.com',
      'https://evil.com%2F.example.com/',
      'https://ex\u0430mple.com/',
      'https://user@app.example.com/',
      '/\\evil.com',
      '//evil.com/',
      'javascript:alert(1)//example.com',
      'data:text/html,<script>alert(1)</script>',
      'https://example.com\r\nSet-Cookie: x=y',
      'not a url',
    ])
      expect(await back(url), url).toBe('/');
    // A line break is no header injection: the URL parser drops it, and the result is judged like any address.
    expect(await back('https://app.example.com/a\r\nSet-Cookie: x=y')).toBe(
      'https://app.example.com/aSet-Cookie:%20x=y',
    );
    expect(await back('https://app.example.com:8443/a b?c=<d>')).toBe('https://app.example.com:8443/a%20b?c=%3Cd%3E');
  });
});
