import * as oidc from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { login, signUp, type Session } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { Browser, REDIRECT_URI } from '../support/oidc-browser.js';
import { startOidcServer, webClient, type OidcTestServer } from '../support/oidc.js';

const dialects = await testDialects();

describe.each(dialects)(
  'OpenID Connect: cancelling, and single sign-on ending with Twofold’s sign-out (%s)',
  (dialect) => {
    let server: OidcTestServer;
    let rp: oidc.Configuration;

    /** The relying party sends `browser` to the authorization endpoint; where does it land? */
    async function authorize(browser: Browser, state = oidc.randomState()) {
      const url = oidc.buildAuthorizationUrl(rp, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        state,
      });
      return browser.navigate(url.href);
    }

    /** Signs `session`'s person in at the interaction page; a skip-consent client then sends the code. */
    async function signIn(browser: Browser, uid: string, session: Session): Promise<URL> {
      const loggedIn = await browser.post(`/api/oidc/interaction/${uid}/login`, session.auth);
      expect(loggedIn.status).toBe(200);
      const step = await browser.navigate(((await loggedIn.json()) as { redirect_to: string }).redirect_to);
      if (!step.callback) throw new Error(`no callback: ${step.response.status}`);
      return step.callback;
    }

    beforeAll(async () => {
      server = await startOidcServer(dialect);
      ({ rp } = await webClient(server, {
        name: 'Intranet',
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile'],
      }));
    });
    afterAll(async () => server.close());
    beforeEach(() => server.clock.set(new Date()));

    it('cancelling sends the application access_denied with its state; only the browser that started it can cancel', async () => {
      const browser = new Browser(new URL(server.issuer).origin);
      const state = oidc.randomState();
      const { uid } = await authorize(browser, state);
      const stranger = new Browser(browser.origin);
      expect((await stranger.post(`/api/oidc/interaction/${uid}/abort`, {})).status).toBe(404);
      expect((await browser.post(`/api/oidc/interaction/${uid}/abort`, {}, { extra: 1 })).status).toBe(400);

      const aborted = await browser.post(`/api/oidc/interaction/${uid}/abort`, {});
      expect(aborted.status).toBe(200);
      const step = await browser.navigate(((await aborted.json()) as { redirect_to: string }).redirect_to);
      expect(step.callback?.searchParams.get('error')).toBe('access_denied');
      expect(step.callback?.searchParams.get('state')).toBe(state);
      // Finished: neither a second cancel nor a sign-in can reuse it.
      expect((await browser.post(`/api/oidc/interaction/${uid}/abort`, {})).status).toBe(404);
    });

    it.each([
      ['signing out of this browser', (session: Session) => logout(session)],
      ['signing out everywhere', (session: Session) => logoutAll(session)],
    ])('the provider’s own session lets the next sign-in through, until %s', async (_name, signOut) => {
      const person = await signUp(server.app);
      const browser = new Browser(new URL(server.issuer).origin);
      const first = await authorize(browser);
      await signIn(browser, first.uid!, person);
      // Single sign-on: the same browser goes straight back with a code, without the page.
      const again = await authorize(browser);
      expect(again.uid).toBeUndefined();
      expect(again.callback?.searchParams.get('code')).toBeTruthy();

      await signOut(person);
      const after = await authorize(browser);
      expect(after.callback).toBeUndefined();
      expect(after.uid).toBeDefined();
      const view = await browser.request(`/api/oidc/interaction/${after.uid}`);
      expect(((await view.json()) as { prompt: string }).prompt).toBe('login');

      // Someone else signing in at that browser now is simply that person (no leftover of the first).
      const other = await signUp(server.app);
      const callback = await signIn(browser, after.uid!, other);
      const code = callback.searchParams.get('code');
      expect(code).toBeTruthy();
    });

    it('a sign-out of another account leaves this one’s single sign-on alone', async () => {
      const person = await signUp(server.app);
      const neighbour = await signUp(server.app);
      const browser = new Browser(new URL(server.issuer).origin);
      await signIn(browser, (await authorize(browser)).uid!, person);
      await logoutAll(neighbour);
      expect((await authorize(browser)).callback?.searchParams.get('code')).toBeTruthy();
    });

    async function logout(session: Session): Promise<void> {
      const response = await server.app.inject({
        method: 'POST',
        url: '/api/auth/logout',
        payload: { refresh_token: session.refreshToken },
      });
      expect(response.statusCode).toBe(204);
    }
    async function logoutAll(session: Session): Promise<void> {
      const fresh = await login(server.app, (await me(session)).username);
      const response = await server.app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: fresh.auth });
      expect(response.statusCode).toBe(204);
    }
    async function me(session: Session): Promise<{ username: string }> {
      return (await server.app.inject({ method: 'GET', url: '/api/user/me', headers: session.auth })).json();
    }
  },
);
