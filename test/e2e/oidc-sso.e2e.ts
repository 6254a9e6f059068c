import type * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HomePage, OidcPage, ReauthDialog } from './pages/index.js';
import { startHarness, type Harness } from './support/harness.js';
import {
  authorization,
  createClient,
  exchange,
  relyingParty,
  startCallbackServer,
  type CallbackServer,
} from './support/oidc-rp.js';
import { createTotpAccount, type TotpAccount } from './support/totp-account.js';

/**
 * What a person sees across several applications in one browser (openid-client as the applications, Chromium as the
 * person): signed in once, a first-party application (`--skip-consent`) gets its answer without any form; an
 * application asking for `prompt=login` gets a fresh confirmation ("Confirm it's you"); Deny on the consent step and
 * Cancel on the sign-in step give the application `access_denied`; signing out of Twofold's web UI ends single
 * sign-on; an unknown sign-in request says to start again.
 */
describe('OpenID Connect single sign-on and refusals, in Chromium', () => {
  let h: Harness;
  let callbacks: CallbackServer;
  let wiki: oidc.Configuration;
  let intranet: oidc.Configuration;
  let calendar: oidc.Configuration;
  let account: TotpAccount;

  beforeAll(async () => {
    h = await startHarness({ publicUrlIsPageOrigin: true });
    callbacks = await startCallbackServer();
    const client = async (name: string, ...more: string[]) =>
      relyingParty(
        h.baseUrl,
        await createClient(h, ['--name', name, '--redirect-uri', callbacks.redirectUri, ...more]),
      );
    wiki = await client('Wiki');
    intranet = await client('Intranet', '--skip-consent');
    calendar = await client('Calendar');
    account = await createTotpAccount(h, 'hedy', 'Orchard-violin-29-quartz');
  });
  afterAll(async () => {
    await h?.close();
    await callbacks?.close();
  });

  /** The application sends the browser to the authorization endpoint; resolves with what its callback received. */
  async function begin(page: Page, config: oidc.Configuration, extra: Record<string, string> = {}) {
    const started = await authorization(config, callbacks.redirectUri, extra);
    await page.goto(started.url.href, { waitUntil: 'commit' });
    return started;
  }

  it('one sign-in, then single sign-on, a fresh confirmation for prompt=login, Deny, and sign-out', async () => {
    const { context, page } = await h.newPage();
    const step = new OidcPage(page);
    try {
      // First application: the sign-in form (password and authenticator app), then consent.
      const first = await begin(page, wiki);
      await step.signIn(account.username, account.password, () => account.authenticator.nextCode());
      await step.allow();
      const signedIn = (await exchange(wiki, first, await callbacks.arrival(page))).claims()!;

      // A first-party application: no form at all, and the ID token speaks of the same sign-in.
      const sso = await begin(page, intranet, { scope: 'openid profile' });
      const ssoClaims = (await exchange(intranet, sso, await callbacks.arrival(page))).claims()!;
      expect(ssoClaims.sub).toBe(signedIn.sub);
      expect(ssoClaims.auth_time).toBe(signedIn.auth_time);
      expect(ssoClaims.amr).toEqual(signedIn.amr);

      // OpenID Connect Core 1.0 §3.1.2.1 prompt=login: the page asks the person to confirm it is them.
      const before = Math.floor(Date.now() / 1000);
      const fresh = await begin(page, wiki, { scope: 'openid profile', prompt: 'login' });
      const reauth = new ReauthDialog(page);
      await reauth.waitForOpen();
      expect(await reauth.dialog.textContent()).toContain('Wiki asks you to sign in again');
      await h.screenshot(page, 'oidc-prompt-login-reauth', { viewport: true });
      await reauth.confirm(account.password, await account.authenticator.nextCode());
      const freshClaims = (await exchange(wiki, fresh, await callbacks.arrival(page))).claims()!;
      expect(freshClaims.sub).toBe(signedIn.sub);
      expect(freshClaims.auth_time).toBeGreaterThanOrEqual(before);
      expect(freshClaims.acr).toBe('mfa');

      // Another application: signed in already, so straight to consent; Deny tells the application so.
      const denied = await begin(page, calendar);
      await step.consent.waitFor();
      expect(await step.clientName.textContent()).toContain('Calendar');
      expect(await step.signedInAs.textContent()).toContain(account.username);
      await step.deny();
      const answer = await callbacks.arrival(page);
      expect(answer.searchParams.get('error')).toBe('access_denied');
      expect(answer.searchParams.get('state')).toBe(denied.state);
      await expect(exchange(calendar, denied, answer)).rejects.toMatchObject({ error: 'access_denied' });

      // Signed out of Twofold's web UI: the next application asks for the sign-in again.
      await page.goto('/app/');
      await new HomePage(page).signOut();
      await begin(page, wiki, { scope: 'openid profile' });
      await page.getByTestId('login-username').waitFor();
      expect(page.url()).toMatch(new RegExp(`^${h.baseUrl}/app/oidc/`));
      await h.screenshot(page, 'oidc-sign-in-after-sign-out');
    } catch (error) {
      throw new Error(`${String(error)}\nat ${page.url()}: ${(await page.content()).slice(0, 800)}`, { cause: error });
    } finally {
      await context.close();
    }
  });

  it('Cancel on the sign-in step gives the application access_denied', async () => {
    const { context, page } = await h.newPage();
    try {
      const started = await begin(page, wiki);
      const step = new OidcPage(page);
      await page.getByTestId('login-username').waitFor();
      await step.cancel();
      const answer = await callbacks.arrival(page);
      expect(answer.searchParams.get('error')).toBe('access_denied');
      await expect(exchange(wiki, started, answer)).rejects.toMatchObject({ error: 'access_denied' });
    } finally {
      await context.close();
    }
  });

  it('a sign-in request that does not exist (or has expired) says to go back and start again', async () => {
    const { context, page } = await h.newPage();
    try {
      await page.goto('/app/oidc/no-such-request');
      const step = new OidcPage(page);
      await step.error.waitFor();
      expect(await step.error.textContent()).toContain('expired or was started in another browser');
      expect(await page.getByTestId('login-username').count()).toBe(0);
      await h.screenshot(page, 'oidc-expired');
    } finally {
      await context.close();
    }
    // The unknown request's 404 is the only failure any page met.
    expect(h.consoleErrors.filter((line) => !line.startsWith(`${h.baseUrl}/app/oidc/no-such-request: `))).toEqual([]);
  });
});
