import * as oidc from 'openid-client';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HomePage, LoginPage } from './pages/index.js';
import path from 'node:path';
import { ARTIFACTS, startHarness, type Harness } from './support/harness.js';

/** The application's addresses: Chromium never reaches them, the test answers for them. */
const CALLBACK = 'http://127.0.0.1:9/callback';
const SIGNED_OUT = 'http://127.0.0.1:9/signed-out';

/**
 * RP-initiated logout in the real web UI: an administrator registers the application with its post-logout redirect
 * URI on the admin page; a person signed in to Twofold continues to it; the application signs them out through the
 * end-session endpoint; "Sign out" brings them back to the application, and the next sign-in asks for a password.
 */
describe('signing out of an application through Twofold', () => {
  const admin = { username: 'root', password: 'Admin-copper-kettle-93' };
  const person = { username: 'pat', email: 'pat@example.test', password: 'Pebble-harbour-29-lantern' };
  let h: Harness;
  let client: { id: string; secret: string };

  beforeAll(async () => {
    h = await startHarness({ publicUrlIsPageOrigin: true });
    await h.createAdmin(admin);
    const registered = await fetch(`${h.baseUrl}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(person),
    });
    expect(registered.status).toBe(201);
  });
  afterAll(async () => h?.close());

  const signIn = async (page: Page, who: { username: string; password: string }): Promise<void> => {
    const login = new LoginPage(page);
    await login.open();
    await login.submitPassword(who.username, who.password);
    await new HomePage(page).waitForUser(who.username);
  };

  /** Answers for the application's addresses and records what reached them. */
  const application = async (context: BrowserContext): Promise<URL[]> => {
    const reached: URL[] = [];
    await context.route('http://127.0.0.1:9/**', async (route) => {
      reached.push(new URL(route.request().url()));
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'the application' });
    });
    return reached;
  };

  it('an administrator registers the application with where its sign-out returns', async () => {
    for (const width of [1280, 390]) {
      const { context, page } = await h.newPage({ viewport: { width, height: width < 600 ? 844 : 900 } });
      await signIn(page, admin);
      await page.getByTestId('nav-admin').click();
      await page.getByTestId('oidc-name').fill(`Wiki ${width}`);
      await page.getByTestId('oidc-redirect-uris').fill(CALLBACK);
      await page.getByTestId('oidc-post-logout-uris').fill(SIGNED_OUT);
      await page.getByTestId('oidc-skip-consent').check();
      const section = page.getByTestId('oidc-clients');
      await page
        .getByTestId('oidc-create-form')
        .screenshot({ path: path.join(ARTIFACTS, `oidc-logout-form-${width}.png`) });
      await page.getByTestId('oidc-create').click();
      const secret = await page.getByTestId('oidc-secret-value').textContent();
      const id = await page.locator('#oidc-secret-title + p code').textContent();
      const row = page.locator(`[data-testid="oidc-client-row"][data-client-name="Wiki ${width}"]`);
      await expect
        .poll(() => row.getByTestId('oidc-post-logout-list').textContent(), { timeout: 15_000 })
        .toContain(SIGNED_OUT);
      await section.screenshot({ path: path.join(ARTIFACTS, `oidc-logout-clients-${width}.png`) });
      client = { id: id!, secret: secret! };
      await context.close();
    }
  });

  it('“Sign out” returns to the application with its state, and the next sign-in asks for the password', async () => {
    const rp = await oidc.discovery(new URL(h.baseUrl), client.id, undefined, oidc.ClientSecretBasic(client.secret), {
      execute: [oidc.allowInsecureRequests],
    });
    const { context, page } = await h.newPage();
    const reached = await application(context);
    await signIn(page, person);

    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const authorization = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: CALLBACK,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    // Signed in to Twofold in this browser: the page continues to the application without a question.
    await page.goto(authorization.href);
    await expect.poll(() => reached.length, { timeout: 15_000 }).toBe(1);
    // The request is seen before the page has loaded it: the next goto must not interrupt that navigation.
    await page.waitForURL((url) => url.port === '9');
    const tokens = await oidc.authorizationCodeGrant(rp, reached[0]!, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });

    const logoutState = oidc.randomState();
    await page.goto(
      oidc.buildEndSessionUrl(rp, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: SIGNED_OUT,
        state: logoutState,
      }).href,
    );
    await expect
      .poll(() => page.locator('h1').textContent(), { timeout: 15_000 })
      .toBe('Sign out of Twofold and Wiki 390?');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => reached.length, { timeout: 15_000 }).toBe(2);
    await page.waitForURL((url) => url.port === '9' && url.searchParams.get('state') === logoutState);
    expect(`${reached[1]!.origin}${reached[1]!.pathname}`).toBe(SIGNED_OUT);
    expect(reached[1]!.searchParams.get('state')).toBe(logoutState);
    expect((await context.cookies()).map((cookie) => cookie.name)).not.toContain('twofold_session');

    // Back at the application, which asks Twofold again: the sign-in, not "Continue".
    await page.goto(authorization.href);
    await page.getByTestId('login-username').waitFor();
    expect(await page.getByTestId('oidc-continue').count()).toBe(0);
    await page.goto('/app/');
    await page.getByTestId('login-username').waitFor();
    expect(h.consoleErrors).toEqual([]);
    await context.close();
  });
});
