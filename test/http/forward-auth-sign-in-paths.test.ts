import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, login, register, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { BROWSER, browserLogin, forward, sessionCookieLine, sessionCookieOf } from '../support/forward-auth.js';
import { addPasskey, loginOptions, newAuthenticator, RP } from '../support/passkeys.js';
import { totpNow } from '../support/two-factor.js';

const dialects = await testDialects();

/** Twofold at the passkey suites' relying party (auth.example.test), applications under example.test. */
const ENV = {
  PUBLIC_URL: RP.origin,
  SESSION_COOKIE_DOMAIN: 'example.test',
  FORWARD_AUTH_DOMAINS: 'example.test',
  FORWARD_AUTH_RULES: 'secure.example.test=mfa',
};
const SECURE = { url: 'https://secure.example.test/' };

/**
 * Every way a browser comes to hold tokens leaves the session cookie forward authentication reads: a passkey
 * sign-in, a re-authentication, the set-up of a second factor REQUIRE_2FA asked for (the password and second-step
 * sign-ins and the refresh are in forward-auth.test.ts). Each cookie names the session those tokens belong to.
 */
describe.each(dialects)('the sign-in paths that set the session cookie on %s', (dialect) => {
  let t: TestApp;
  let strict: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: ENV });
    strict = await buildTestApp({ dialect, env: { ...ENV, REQUIRE_2FA: 'all' } });
  });
  afterAll(async () => {
    await t?.close();
    await strict?.close();
  });

  it('a passkey sign-in that verified the person: the cookie, and two factors for a host that asks for them', async () => {
    const session = await signUp(t.app, uniqueName('pk'));
    const authenticator = newAuthenticator();
    await addPasskey(t, session, authenticator);
    const { flow_token, options } = await loginOptions(t);
    const signedIn = await t.app.inject({
      method: 'POST',
      url: '/api/auth/passkeys/login/verify',
      headers: BROWSER,
      payload: { flow_token, response: authenticator.assert(options) },
    });
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    const passed = await forward(t.app, sessionCookieOf(signedIn), SECURE);
    expect(passed.statusCode).toBe(200);
    expect(passed.headers['x-auth-amr']).toBe('hwk,mfa');
  });

  it('a re-authentication sets the cookie again for the same session, and its methods count from then on', async () => {
    const username = uniqueName('re');
    await signUp(t.app, username);
    const first = await browserLogin(t.app, username);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/auth/reauth',
      headers: { ...BROWSER, authorization: `Bearer ${first.json().access_token}` },
      payload: { password: PASSWORD },
    });
    expect(again.statusCode, again.body).toBe(200);
    expect(sessionCookieOf(again)).toBe(sessionCookieOf(first));
    // An API client's re-authentication sets none.
    const api = await login(t.app, username);
    const plain = await t.app.inject({
      method: 'POST',
      url: '/api/auth/reauth',
      headers: api.auth,
      payload: { password: PASSWORD },
    });
    expect(plain.statusCode).toBe(200);
    expect(sessionCookieLine(plain)).toBeUndefined();
  });

  it('finishing the second factor REQUIRE_2FA asked for signs the browser in with the cookie', async () => {
    const username = uniqueName('setup');
    expect((await register(strict.app, username)).statusCode).toBe(201);
    const first = await strict.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: BROWSER,
      payload: { username, password: PASSWORD },
    });
    expect(first.json().mfa_setup_required).toBe(true);
    expect(sessionCookieLine(first)).toBeUndefined();
    const auth = { authorization: `Bearer ${first.json().setup_token}` };
    const setup = await strict.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: auth });
    expect(setup.statusCode, setup.body).toBe(200);
    const done = await strict.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/verify-setup',
      headers: { ...auth, ...BROWSER },
      payload: { code: totpNow(strict, setup.json().secret) },
    });
    expect(done.statusCode, done.body).toBe(200);
    const passed = await forward(strict.app, sessionCookieOf(done), SECURE);
    expect(passed.statusCode).toBe(200);
    expect(passed.headers['x-auth-user']).toBe(username);
    expect(passed.headers['x-auth-amr']).toBe('pwd,otp');
  });
});
