import * as oidc from 'openid-client';
import { expect } from 'vitest';
import { PASSWORD, signUp } from './app.js';
import { Browser, REDIRECT_URI } from './oidc-browser.js';
import type { OidcTestServer } from './oidc.js';

/** Where the test client's sign-out returns (registered as its post_logout_redirect_uri). */
export const POST_LOGOUT_URI = 'http://127.0.0.1:9/signed-out';

/** A person signed in to the web UI in `browser` (its refresh and session cookies), then to the application. */
export interface SignedIn {
  browser: Browser;
  userId: number;
  /** The web UI's tokens: what the browser's cookies stand for. */
  web: { username: string; accessToken: string; refreshToken: string };
  /** The application's tokens from the authorization code flow. */
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
}

const asWebUi = { 'content-type': 'application/json', 'x-requested-with': 'twofold' };

/** Signs in (a new person, or `username`) at the web UI's login route, as the web UI does: it sets the cookies. */
export async function webLogin(server: OidcTestServer, browser: Browser, username?: string) {
  username ??= (await signUp(server.app)).username;
  const response = await browser.request('/api/auth/login', {
    method: 'POST',
    headers: asWebUi,
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { access_token: string; refresh_token: string; user: { id: number } };
  expect(browser.cookies.has('twofold_session')).toBe(true);
  return { username, userId: body.user.id, accessToken: body.access_token, refreshToken: body.refresh_token };
}

/** The relying party sends `browser` to the authorization endpoint. */
export async function authorize(rp: oidc.Configuration, browser: Browser) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { ...(await browser.navigate(url.href)), verifier, state, nonce };
}

/** A person signed in to Twofold's web UI and, with that sign-in, to a skip-consent application. */
export async function signedIn(server: OidcTestServer, rp: oidc.Configuration): Promise<SignedIn> {
  const browser = new Browser(new URL(server.issuer).origin);
  const web = await webLogin(server, browser);
  const started = await authorize(rp, browser);
  if (!started.uid) throw new Error('no interaction');
  const loggedIn = await browser.post(`/api/oidc/interaction/${started.uid}/login`, {
    authorization: `Bearer ${web.accessToken}`,
  });
  expect(loggedIn.status).toBe(200);
  const step = await browser.navigate(((await loggedIn.json()) as { redirect_to: string }).redirect_to);
  if (!step.callback) throw new Error(`no callback: ${step.response.status}`);
  const tokens = await oidc.authorizationCodeGrant(rp, step.callback, {
    pkceCodeVerifier: started.verifier,
    expectedState: started.state,
    expectedNonce: started.nonce,
    idTokenExpected: true,
  });
  return { browser, userId: web.userId, web, tokens };
}

/** The end-session page the browser is sent to; its anti-forgery value. */
export async function endSessionPage(browser: Browser, url: URL) {
  const response = await browser.request(url.href);
  const html = await response.text();
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
  return { response, html, xsrf };
}

/** Presses "Sign out" (`logout=yes`) or "Stay signed in" (no `logout`: the button has no name). */
export function confirm(browser: Browser, xsrf: string, signOut: boolean): Promise<Response> {
  return browser.request('/oidc/session/end/confirm', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ xsrf, ...(signOut ? { logout: 'yes' } : {}) }).toString(),
  });
}

/** Whether the web UI's session still works: its access token is accepted. */
export async function webSessionAlive(server: OidcTestServer, web: SignedIn['web']): Promise<boolean> {
  const me = await server.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${web.accessToken}` } });
  return me.statusCode === 200;
}

/** Whether the application's access token is still accepted (at the UserInfo endpoint). */
export async function applicationTokenAlive(rp: oidc.Configuration, signedIn: SignedIn): Promise<boolean> {
  const sub = signedIn.tokens.claims()!.sub;
  return oidc.fetchUserInfo(rp, signedIn.tokens.access_token, sub).then(
    () => true,
    () => false,
  );
}
