import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcPage } from './pages/index.js';
import { startHarness, type Harness } from './support/harness.js';
import {
  authorization,
  createClient,
  exchange,
  relyingParty,
  startCallbackServer,
  type CallbackServer,
} from './support/oidc-rp.js';
import { createTotpAccount } from './support/totp-account.js';

/**
 * Twofold as the OpenID Connect provider of a real relying party: openid-client (the application) and Chromium (the
 * person). Discovery from the running server, a confidential client made with the CLI, the authorization code flow
 * with PKCE, state and nonce through the web UI's sign-in step (password and authenticator app, then consent), the
 * ID token as openid-client validates it, userinfo, rotating refresh tokens, introspection (RFC 7662) and
 * revocation (RFC 7009), client credentials, and RP-initiated logout with the provider's own confirmation form.
 */
describe('OpenID Connect with openid-client and Chromium', () => {
  let h: Harness;
  let callbacks: CallbackServer;
  let wiki: oidc.Configuration;
  let robot: oidc.Configuration;
  const password = 'Harbour-lantern-73-thistle';

  beforeAll(async () => {
    h = await startHarness({ publicUrlIsPageOrigin: true, env: { OIDC_SCOPES: 'reports:read' } });
    callbacks = await startCallbackServer();
    const created = await createClient(h, ['--name', 'Wiki', '--redirect-uri', callbacks.redirectUri]);
    wiki = await relyingParty(h.baseUrl, created);
    const machine = await createClient(h, [
      '--name',
      'Report robot',
      '--grant',
      'client_credentials',
      '--scope',
      'reports:read',
    ]);
    robot = await relyingParty(h.baseUrl, machine);
  });
  afterAll(async () => {
    await h?.close();
    await callbacks?.close();
  });

  it('discovery names the running server as issuer, with the endpoints openid-client uses', () => {
    const metadata = wiki.serverMetadata();
    expect(metadata.issuer).toBe(h.baseUrl);
    expect(metadata.authorization_endpoint).toBe(`${h.baseUrl}/oidc/auth`);
    expect(metadata.code_challenge_methods_supported).toContain('S256');
    expect(metadata.end_session_endpoint).toBe(`${h.baseUrl}/oidc/session/end`);
  });

  for (const width of [390, 1280]) {
    it(`signs in with a password and an authenticator code, consents, and the application gets verified tokens, at ${width} px`, async () => {
      const account = await createTotpAccount(h, `ada${width}`, password);
      const { context, page } = await h.newPage({ viewport: { width, height: 900 } });
      try {
        const before = Math.floor(Date.now() / 1000);
        const started = await authorization(wiki, callbacks.redirectUri);
        await page.goto(started.url.href, { waitUntil: 'commit' });
        await page.waitForURL((u) => u.pathname.startsWith('/app/oidc/'));
        const step = new OidcPage(page);
        await step.clientName.waitFor();
        expect(await step.clientName.textContent()).toContain('Wiki');
        await page.getByTestId('login-username').waitFor();
        await h.screenshot(page, `oidc-sign-in-${width}`);
        await step.signIn(account.username, account.password, () => account.authenticator.nextCode());

        await step.consent.waitFor();
        expect(await step.signedInAs.textContent()).toContain(account.username);
        expect(await step.scopes.count()).toBe(4);
        expect(await step.fitsWidth()).toBe(true);
        await h.screenshot(page, `oidc-consent-${width}`);
        await step.allow();

        const callback = await callbacks.arrival(page);
        const after = Math.ceil(Date.now() / 1000);
        const tokens = await exchange(wiki, started, callback);
        const claims = tokens.claims()!;
        expect(claims.iss).toBe(h.baseUrl);
        expect(claims.nonce).toBe(started.nonce);
        // RFC 8176: the password and the authenticator app; acr names both factors (docs/oidc.md).
        expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp']));
        expect(claims.acr).toBe('mfa');
        expect(claims.auth_time).toBeGreaterThanOrEqual(before);
        expect(claims.auth_time).toBeLessThanOrEqual(after);

        const info = await oidc.fetchUserInfo(wiki, tokens.access_token, claims.sub);
        expect(info.preferred_username).toBe(account.username);
        expect(info.email).toBe(account.email);

        // Introspection (RFC 7662) tells a resource server whose token it holds.
        const active = await oidc.tokenIntrospection(wiki, tokens.access_token);
        expect(active).toMatchObject({ active: true, client_id: wiki.clientMetadata().client_id, sub: claims.sub });
        expect(active.scope?.split(' ')).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));

        // Rotation: the refresh token is spent and a new one comes with the new access token.
        const refreshed = await oidc.refreshTokenGrant(wiki, tokens.refresh_token!);
        expect(refreshed.refresh_token).toBeDefined();
        expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
        expect((await oidc.fetchUserInfo(wiki, refreshed.access_token, claims.sub)).preferred_username).toBe(
          account.username,
        );

        // Revocation (RFC 7009): the access token stops working at once.
        await oidc.tokenRevocation(wiki, refreshed.access_token);
        expect(await oidc.tokenIntrospection(wiki, refreshed.access_token)).toEqual({ active: false });
        await expect(oidc.fetchUserInfo(wiki, refreshed.access_token, claims.sub)).rejects.toThrow();

        // RFC 9700 §4.14.2: the spent refresh token presented again is refused and ends the grant, so the newer
        // refresh token, possibly a thief's, is refused too.
        await expect(oidc.refreshTokenGrant(wiki, tokens.refresh_token!)).rejects.toMatchObject({
          error: 'invalid_grant',
        });
        await expect(oidc.refreshTokenGrant(wiki, refreshed.refresh_token!)).rejects.toMatchObject({
          error: 'invalid_grant',
        });
      } finally {
        await context.close();
      }
    });
  }

  it('a machine client gets a token with client credentials; introspection and revocation work on it', async () => {
    const issued = await oidc.clientCredentialsGrant(robot, { scope: 'reports:read' });
    const active = await oidc.tokenIntrospection(robot, issued.access_token);
    expect(active).toMatchObject({ active: true, scope: 'reports:read', client_id: robot.clientMetadata().client_id });
    expect(active.sub).toBeUndefined();
    await oidc.tokenRevocation(robot, issued.access_token);
    expect(await oidc.tokenIntrospection(robot, issued.access_token)).toEqual({ active: false });
    // A scope the client was not given is refused (docs/oidc.md).
    await expect(oidc.clientCredentialsGrant(robot, { scope: 'openid' })).rejects.toMatchObject({
      error: 'invalid_scope',
    });
  });

  it('RP-initiated logout: the provider asks, the person confirms, and the provider session is gone', async () => {
    const account = await createTotpAccount(h, 'grace', password);
    const { context, page } = await h.newPage();
    try {
      const first = await authorization(wiki, callbacks.redirectUri);
      await page.goto(first.url.href, { waitUntil: 'commit' });
      const step = new OidcPage(page);
      await step.signIn(account.username, account.password, () => account.authenticator.nextCode());
      await step.allow();
      const tokens = await exchange(wiki, first, await callbacks.arrival(page));

      // Signed in at the provider: prompt=none answers with a code (OpenID Connect Core 1.0 §3.1.2.1).
      const silent = await authorization(wiki, callbacks.redirectUri, { prompt: 'none', scope: 'openid profile' });
      await page.goto(silent.url.href, { waitUntil: 'commit' });
      const again = await exchange(wiki, silent, await callbacks.arrival(page));
      expect(again.claims()!.sub).toBe(tokens.claims()!.sub);

      await page.goto(oidc.buildEndSessionUrl(wiki, { id_token_hint: tokens.id_token! }).href);
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
      await h.screenshot(page, 'oidc-logout-done');

      // OpenID Connect RP-Initiated Logout 1.0 §2: the session at the provider has ended; a silent request cannot
      // sign the person in any more.
      const after = await authorization(wiki, callbacks.redirectUri, { prompt: 'none', scope: 'openid profile' });
      await page.goto(after.url.href, { waitUntil: 'commit' });
      await expect(exchange(wiki, after, await callbacks.arrival(page))).rejects.toMatchObject({
        error: 'login_required',
      });
    } finally {
      await context.close();
    }
  });

  it('saw no errors in the browser console, the sign-out pages included', () => {
    expect(h.consoleErrors).toEqual([]);
  });
});
