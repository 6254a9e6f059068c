import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { testDialects } from '../support/databases.js';
import { Browser, REDIRECT_URI } from '../support/oidc-browser.js';
import {
  POST_LOGOUT_URI,
  applicationTokenAlive,
  authorize,
  confirm,
  endSessionPage,
  signedIn,
  webLogin,
  webSessionAlive,
  type SignedIn,
} from '../support/oidc-logout.js';
import { CLI_ACTOR, startOidcServer, type OidcTestServer } from '../support/oidc.js';
import { auditRows } from '../support/two-factor.js';

const dialects = await testDialects();

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the application sends the browser to the end-session
 * endpoint; the person confirms on Twofold's page; the provider's session and Twofold's own session in that browser
 * end, and the browser returns to a registered post_logout_redirect_uri with the application's state.
 */
describe.each(dialects)('OpenID Connect RP-initiated logout (%s)', (dialect) => {
  let server: OidcTestServer;
  let rp: oidc.Configuration;

  beforeAll(async () => {
    server = await startOidcServer(dialect);
    const created = await server.clients.create(
      {
        name: 'Wiki',
        redirectUris: [REDIRECT_URI],
        postLogoutRedirectUris: [POST_LOGOUT_URI],
        public: false,
        scopes: ['openid', 'profile'],
        skipConsent: true,
      },
      CLI_ACTOR,
    );
    rp = await server.relyingParty(created.client.client_id, created.secret!);
  });
  afterAll(async () => server.close());
  beforeEach(() => server.clock.set(new Date()));

  const endUrl = (person: SignedIn, extra: Record<string, string> = {}) =>
    oidc.buildEndSessionUrl(rp, { id_token_hint: person.tokens.id_token!, ...extra });

  it('“Sign out” ends the Twofold session of that browser and returns to the registered URI with the state', async () => {
    const person = await signedIn(server, rp);
    const state = oidc.randomState();
    const page = await endSessionPage(
      person.browser,
      endUrl(person, { post_logout_redirect_uri: POST_LOGOUT_URI, state }),
    );
    expect(page.response.status).toBe(200);
    expect(page.html).toContain('<h1>Sign out of Twofold and Wiki?</h1>');
    expect(page.xsrf).toBeTruthy();

    const confirmed = await confirm(person.browser, page.xsrf!, true);
    expect(confirmed.status).toBe(303);
    const back = new URL(confirmed.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(POST_LOGOUT_URI);
    expect(back.searchParams.get('state')).toBe(state);

    // The web UI's session is revoked: its access token, its refresh token, its cookies in this browser.
    expect(await webSessionAlive(server, person.web)).toBe(false);
    const refresh = await server.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: person.web.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
    for (const name of ['twofold_session', 'twofold_refresh', 'twofold_signed_in'])
      expect(person.browser.cookies.has(name), name).toBe(false);
    // The application's grant ended with the provider's session.
    expect(await applicationTokenAlive(rp, person)).toBe(false);
    // The next authorization asks the person to sign in.
    const again = await authorize(rp, person.browser);
    expect(again.callback).toBeUndefined();
    const view = await person.browser.request(`/api/oidc/interaction/${again.uid}`);
    expect(((await view.json()) as { prompt: string }).prompt).toBe('login');

    await vi.waitFor(async () => {
      const logouts = (await auditRows(server, person.userId)).filter((row) => row.type === 'oidc.logout');
      expect(logouts.map((row) => JSON.parse(row.detail ?? '{}'))).toEqual([
        expect.objectContaining({ signed_out_of_twofold: true, twofold_session_ended: true }),
      ]);
    });
  });

  it('“Stay signed in” ends the application’s grant only: the Twofold session and single sign-on stay', async () => {
    const person = await signedIn(server, rp);
    const page = await endSessionPage(person.browser, endUrl(person));
    const stayed = await confirm(person.browser, page.xsrf!, false);
    expect(stayed.status).toBe(303);
    const success = new URL(stayed.headers.get('location')!, server.issuer);
    expect(success.pathname).toBe('/oidc/session/end/success');

    expect(await webSessionAlive(server, person.web)).toBe(true);
    expect(person.browser.cookies.has('twofold_session')).toBe(true);
    const refresh = await person.browser.request('/api/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-requested-with': 'twofold' },
      body: '{}',
    });
    expect(refresh.status).toBe(200);
    expect(await applicationTokenAlive(rp, person)).toBe(false);
    expect((await authorize(rp, person.browser)).callback?.searchParams.get('code')).toBeTruthy();

    const after = await person.browser.request(success.href);
    const html = await after.text();
    expect(html).toContain('<h1>You are signed out of Wiki</h1>');
    expect(html).toContain('still signed in to Twofold');
  });

  it('refuses a post_logout_redirect_uri the client did not register, and ends nothing', async () => {
    const person = await signedIn(server, rp);
    for (const uri of ['http://127.0.0.1:9/elsewhere', `${POST_LOGOUT_URI}/`, 'https://evil.example/signed-out']) {
      const page = await endSessionPage(person.browser, endUrl(person, { post_logout_redirect_uri: uri }));
      expect(page.response.status, uri).toBe(400);
      expect(page.html).toContain('post_logout_redirect_uri not registered');
      expect(page.xsrf).toBeUndefined();
    }
    expect(await webSessionAlive(server, person.web)).toBe(true);
    expect(await applicationTokenAlive(rp, person)).toBe(true);
  });

  it('without a registered URI the browser lands on Twofold’s page; the pages run no script and load nothing', async () => {
    const person = await signedIn(server, rp);
    const page = await endSessionPage(person.browser, endUrl(person));
    const csp = page.response.headers.get('content-security-policy') ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(page.html)?.[1] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src|unsafe-inline/);
    expect(page.html).not.toMatch(/<script|\son\w+=/i);
    // The provider's form, as it made it: its action and anti-forgery field.
    expect(page.html).toMatch(/<form id="op\.logoutForm" method="post" action="[^"]*\/oidc\/session\/end\/confirm">/);

    const confirmed = await confirm(person.browser, page.xsrf!, true);
    const success = await person.browser.request(confirmed.headers.get('location')!);
    const html = await success.text();
    expect(html).toContain('<h1>You are signed out</h1>');
    expect(html).toContain('<a href="/app/login">Sign in again</a>');
    expect(success.headers.get('content-security-policy')).toBe(csp);
    expect(await webSessionAlive(server, person.web)).toBe(false);
  });

  it('without id_token_hint or client_id, the question names Twofold alone and “Sign out” still ends both', async () => {
    const person = await signedIn(server, rp);
    const page = await endSessionPage(person.browser, new URL('/oidc/session/end', server.issuer));
    expect(page.html).toContain('<h1>Sign out of Twofold?</h1>');
    const confirmed = await confirm(person.browser, page.xsrf!, true);
    const html = await (await person.browser.request(confirmed.headers.get('location')!)).text();
    expect(html).toContain('<h1>You are signed out</h1>');
    expect(await webSessionAlive(server, person.web)).toBe(false);
  });

  it('escapes the client’s name (an administrator’s input) on both pages', async () => {
    const name = `<img src=x onerror="alert(1)">&'Wiki`;
    const created = await server.clients.create(
      { name, redirectUris: [REDIRECT_URI], public: false, scopes: ['openid', 'profile'], skipConsent: true },
      CLI_ACTOR,
    );
    const evil = await server.relyingParty(created.client.client_id, created.secret!);
    const person = await signedIn(server, evil);
    const url = oidc.buildEndSessionUrl(evil, { id_token_hint: person.tokens.id_token! });
    const page = await endSessionPage(person.browser, url);
    const escaped = '&#60;img src=x onerror=&#34;alert(1)&#34;&#62;&#38;&#39;Wiki';
    expect(page.html).toContain(`Sign out of Twofold and ${escaped}?`);
    expect(page.html).not.toContain('<img');
    const stayed = await confirm(person.browser, page.xsrf!, false);
    const success = await (await person.browser.request(stayed.headers.get('location')!)).text();
    expect(success).toContain(`You are signed out of ${escaped}`);
    expect(success).not.toContain('<img');
  });

  it('a forged twofold_session cookie, or another person’s, ends no Twofold session', async () => {
    const person = await signedIn(server, rp);
    // The same person signed in in a second browser: a cookie naming that session under another's MAC is forged.
    const laptop = new Browser(person.browser.origin);
    const laptopWeb = await webLogin(server, laptop, person.web.username);
    const [, laptopSession] = laptop.cookies.get('twofold_session')!.value.split('.');
    const cookie = person.browser.cookies.get('twofold_session')!;
    const [version, , userId, mac] = cookie.value.split('.');
    cookie.value = [version, laptopSession, userId, mac].join('.');
    const page = await endSessionPage(person.browser, endUrl(person));
    expect((await confirm(person.browser, page.xsrf!, true)).status).toBe(303);
    expect(await webSessionAlive(server, laptopWeb)).toBe(true);
    expect(await webSessionAlive(server, person.web)).toBe(true);

    // A genuine cookie of another account's session, in the browser of the person signing out.
    const other = await signedIn(server, rp);
    const neighbour = new Browser(other.browser.origin);
    const neighbourWeb = await webLogin(server, neighbour);
    other.browser.cookies.set('twofold_session', neighbour.cookies.get('twofold_session')!);
    const otherPage = await endSessionPage(other.browser, endUrl(other));
    expect((await confirm(other.browser, otherPage.xsrf!, true)).status).toBe(303);
    expect(await webSessionAlive(server, neighbourWeb)).toBe(true);
    expect(other.browser.cookies.has('twofold_refresh')).toBe(true);
  });

  it('a browser without a provider session is signed out of nothing by a logout it never confirmed', async () => {
    // Any site can send a browser to the end-session endpoint; without a provider session the provider
    // posts the form itself (logout=yes), with no question asked.
    const browser = new Browser(new URL(server.issuer).origin);
    const web = await webLogin(server, browser);
    const page = await endSessionPage(
      browser,
      new URL(`/oidc/session/end?client_id=${rp.clientMetadata().client_id}`, server.issuer),
    );
    expect(page.response.status).toBe(200);
    expect(page.html).not.toContain('Sign out of Twofold');
    expect((await confirm(browser, page.xsrf!, true)).status).toBe(303);
    expect(await webSessionAlive(server, web)).toBe(true);
    expect(browser.cookies.has('twofold_session')).toBe(true);
  });
});
