import * as oidc from 'openid-client';
/**
 * A browser for the OpenID Connect sign-in step: a cookie jar over fetch, redirects followed by hand
 * up to the web UI's interaction page or the relying party's callback.
 */
export const REDIRECT_URI = 'http://127.0.0.1:9/callback';

/** Whether a cookie's Path covers a request's path (RFC 6265 §5.1.4). */
function pathMatches(cookiePath: string, requestPath: string): boolean {
  if (requestPath === cookiePath) return true;
  return requestPath.startsWith(cookiePath.endsWith('/') ? cookiePath : `${cookiePath}/`);
}

/** A browser's cookies, sent as a browser would: only under their Path. */
export class Browser {
  readonly cookies = new Map<string, { value: string; path: string }>();
  constructor(readonly origin: string) {}
  private remember(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1);
      const path = /;\s*path=([^;]*)/i.exec(line)?.[1] ?? '/';
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const { pathname } = new URL(url, this.origin);
    const cookie = [...this.cookies]
      .filter(([, { path }]) => pathMatches(path, pathname))
      .map(([name, { value }]) => `${name}=${value}`)
      .join('; ');
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(new URL(url, this.origin), { ...init, headers, redirect: 'manual' });
    this.remember(response);
    return response;
  }
  /** Follows redirects until the page of an interaction, or the relying party's callback. */
  async navigate(url: string): Promise<{ uid?: string; callback?: URL; response: Response }> {
    let next = url;
    for (let hops = 0; hops < 10; hops += 1) {
      const response = await this.request(next);
      const location = response.headers.get('location');
      if (!location) return { response };
      const target = new URL(location, this.origin);
      const page = /^\/app\/oidc\/([\w-]+)$/.exec(target.pathname);
      if (page) return { uid: page[1], response };
      if (target.href.startsWith(REDIRECT_URI)) return { callback: target, response };
      next = target.href;
    }
    throw new Error('too many redirects');
  }
  post(url: string, auth: { authorization: string } | Record<string, never>, body: unknown = {}): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }
}

/** An authorization under way: the browser that holds its interaction cookie, and what the relying party keeps. */
export interface Started {
  browser: Browser;
  uid: string;
  verifier: string;
  state: string;
  nonce: string;
}

/** The relying party sends a new browser to the authorization endpoint (PKCE S256, state, nonce). */
export async function startAuthorization(
  issuer: string,
  config: oidc.Configuration,
  extra: Record<string, string> = {},
): Promise<Started> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  const browser = new Browser(new URL(issuer).origin);
  const { uid } = await browser.navigate(url.href);
  if (!uid) throw new Error('no interaction');
  return { browser, uid, verifier, state, nonce };
}

/** The relying party exchanges the callback's code (openid-client checks state, nonce and the ID token). */
export function finish(config: oidc.Configuration, started: Started, callback: URL) {
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: started.verifier,
    expectedState: started.state,
    expectedNonce: started.nonce,
    idTokenExpected: true,
  });
}

/** Login, then consent (when asked), then the callback. */
export async function signInAndConsent(started: Started, session: { auth: { authorization: string } }): Promise<URL> {
  const { browser } = started;
  const loggedIn = await browser.post(`/api/oidc/interaction/${started.uid}/login`, session.auth);
  if (loggedIn.status !== 200) throw new Error(`login: ${loggedIn.status} ${await loggedIn.text()}`);
  let step = await browser.navigate(((await loggedIn.json()) as { redirect_to: string }).redirect_to);
  if (step.uid) {
    const view = await browser.request(`/api/oidc/interaction/${step.uid}`);
    const { prompt } = (await view.json()) as { prompt: string };
    if (prompt !== 'consent') throw new Error(`expected the consent step, got ${prompt}`);
    const consented = await browser.post(`/api/oidc/interaction/${step.uid}/consent`, session.auth);
    if (consented.status !== 200) throw new Error(`consent: ${consented.status}`);
    step = await browser.navigate(((await consented.json()) as { redirect_to: string }).redirect_to);
  }
  if (!step.callback) throw new Error(`no callback: ${step.response.status}`);
  return step.callback;
}
