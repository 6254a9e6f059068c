import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, signUp, type TestApp } from '../support/app.js';

/**
 * How the access token is read from the Authorization header (RFC 6750 §2.1: `Bearer` and one token,
 * the scheme case-insensitive per RFC 9110 §11.1), what each refusal says, the recent-authentication
 * boundary, and the cookies a browser's sign-out clears (OWASP Session Management Cheat Sheet: a
 * cleared cookie keeps the attributes it was set with, or the browser keeps the original).
 */
describe('the Authorization header, the refusals, and the cookies sign-out clears', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect: 'sqlite' });
  });
  afterAll(async () => t?.close());

  const me = (authorization?: string) =>
    t.app.inject({ url: '/api/user/me', headers: authorization === undefined ? {} : { authorization } });

  it('takes "Bearer <token>" in any case, with any spaces around the token, and nothing else', async () => {
    const { accessToken } = await signUp(t.app);
    for (const header of [
      `Bearer ${accessToken}`,
      `bearer ${accessToken}`,
      `Bearer   ${accessToken}`,
      `Bearer ${accessToken}  `,
    ])
      expect((await me(header)).statusCode, JSON.stringify(header)).toBe(200);
    for (const header of [
      `xBearer ${accessToken}`,
      `Bearer ${accessToken} extra`,
      `Basic ${accessToken}`,
      accessToken,
      'Bearer',
    ])
      expect((await me(header)).statusCode, JSON.stringify(header)).toBe(401);
  });

  it('says what is wrong: no token, a broken token, an expired one, an ended session', async () => {
    expect((await me()).json()).toEqual({
      error: 'unauthorized',
      message: 'Send Authorization: Bearer <access_token>.',
    });
    expect((await me('Bearer not.a.jwt')).json().message).toBe('The access token is malformed.');
    const session = await signUp(t.app);
    await t.app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh_token: session.refreshToken } });
    expect((await me(`Bearer ${session.accessToken}`)).json().message).toBe('The session has ended; sign in again.');
    const later = await signUp(t.app);
    t.clock.advance(24 * 3600 * 1000);
    expect((await me(`Bearer ${later.accessToken}`)).json().message).toBe('The access token has expired; refresh it.');
  });

  it('allows a sensitive change exactly REAUTH_MAX_AGE seconds after the sign-in, and refuses it a second later', async () => {
    const change = (accessToken: string, next: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/auth/password/change',
        headers: { authorization: `Bearer ${accessToken}` },
        payload: { current_password: PASSWORD, new_password: next },
      });
    const atLimit = await signUp(t.app);
    t.clock.advance(300_000);
    expect((await change(atLimit.accessToken, 'a new long passphrase 1')).statusCode).toBe(204);
    const pastLimit = await signUp(t.app);
    t.clock.advance(301_000);
    const refused = await change(pastLimit.accessToken, 'a new long passphrase 2');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('reauth_required');
  });

  it("a browser's sign-out clears both cookies with the attributes they were set with", async () => {
    const { username } = await signUp(t.app);
    const browser = { 'x-requested-with': 'twofold' };
    const signedIn = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: browser,
      payload: { username, password: PASSWORD },
    });
    const set = ([] as string[]).concat(signedIn.headers['set-cookie'] ?? []);
    const signedInFlag = set.find((line) => line.startsWith('twofold_signed_in='));
    expect(signedInFlag).toMatch(/^twofold_signed_in=1;/);
    for (const attribute of [/; Secure/i, /; SameSite=Strict/i, /; Path=\/(;|$)/])
      expect(signedInFlag, String(attribute)).toMatch(attribute);
    expect(signedInFlag).not.toMatch(/HttpOnly/i);
    const cookie = ([] as string[])
      .concat(signedIn.headers['set-cookie'] ?? [])
      .map((line) => line.split(';')[0])
      .join('; ');
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { ...browser, cookie },
      payload: {},
    });
    expect(out.statusCode).toBe(204);
    const cleared = ([] as string[]).concat(out.headers['set-cookie'] ?? []);
    const refresh = cleared.find((line) => line.startsWith('twofold_refresh='));
    const flag = cleared.find((line) => line.startsWith('twofold_signed_in='));
    expect(refresh).toMatch(/^twofold_refresh=;/);
    for (const attribute of [
      /; HttpOnly/i,
      /; Secure/i,
      /; SameSite=Strict/i,
      /; Path=\/api\/auth(;|$)/,
      /Expires=Thu, 01 Jan 1970/,
    ])
      expect(refresh, String(attribute)).toMatch(attribute);
    expect(flag).toMatch(/^twofold_signed_in=;/);
    for (const attribute of [/; Secure/i, /; SameSite=Strict/i, /; Path=\/(;|$)/, /Expires=Thu, 01 Jan 1970/])
      expect(flag, String(attribute)).toMatch(attribute);
    // The page's script reads this flag, so it is not HttpOnly.
    expect(flag).not.toMatch(/HttpOnly/i);
  });

  it('an API client (no X-Requested-With) signs out without cookie headers: it never had cookies', async () => {
    const session = await signUp(t.app);
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      payload: { refresh_token: session.refreshToken },
    });
    expect(out.statusCode).toBe(204);
    expect(out.headers['set-cookie']).toBeUndefined();
  });
});
