import type { CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HomePage, LoginPage, PasskeysSection, RegisterPage, SecurityPage } from './pages/index.js';
import { axeViolations } from './support/axe.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * Passkeys in Chromium with the DevTools Protocol's virtual authenticator (a platform authenticator that
 * holds discoverable credentials and verifies the person): add one on the Security page, sign out, sign in
 * through the username field's autofill, then (autofill off) with "Sign in with a passkey" alone (nothing
 * typed), remove it; a removed passkey no longer signs in. At 390 px and 1280 px, the Security page with a
 * passkey listed is axe-clean and does not scroll sideways (WCAG 2.2 SC 1.4.10). The pages open http://localhost:<port>, which PUBLIC_URL (and so the RP ID
 * and origin) matches.
 */
describe('passkeys in the browser', () => {
  let h: Harness;
  const password = 'Willow-harbour-83-compass';

  beforeAll(async () => {
    h = await startHarness({ publicUrlIsPageOrigin: true });
  });
  afterAll(async () => h?.close());

  /** A virtual authenticator in `page`'s browser; returns the session and its id (to read its credentials). */
  const addAuthenticator = async (page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return { cdp, authenticatorId };
  };

  for (const width of [390, 1280]) {
    it(`adds a passkey, signs in with it alone and removes it, at ${width} px`, async () => {
      const username = `wren${width}`;
      const { context, page } = await h.newPage({
        viewport: { width, height: width < 600 ? 844 : 900 },
        bypassCSP: true,
      });
      const problems: string[] = [];
      try {
        const { cdp, authenticatorId } = await addAuthenticator(page);
        const register = new RegisterPage(page);
        await register.open();
        await register.fill({ username, email: `${username}@example.test`, password });
        await register.submit();
        const home = new HomePage(page);
        if (!(await page.getByTestId('nav-signout').isVisible())) {
          await new LoginPage(page).open();
          await new LoginPage(page).submitPassword(username, password);
        }
        await home.waitForUser(username);

        const security = new SecurityPage(page);
        await security.open();
        const passkeys = new PasskeysSection(page);
        await passkeys.add('Laptop');
        await expect.poll(() => passkeys.focused()).toBe('notice');
        expect(await passkeys.names()).toEqual(['Laptop']);
        expect(await page.getByTestId('passkey-synced').innerText()).toBe('This device only');
        // The authenticator holds one discoverable credential for this site (RP ID localhost).
        const held = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
        expect(held.credentials.map((c) => [c.isResidentCredential, c.rpId])).toEqual([[true, 'localhost']]);

        const { scrollWidth, innerWidth, wide } = await security.overflow();
        if (scrollWidth > innerWidth) problems.push(`${scrollWidth} px wide in ${innerWidth}; ${wide.join('; ')}`);
        problems.push(...(await axeViolations(page)));
        await h.screenshot(page, `passkeys-security-${width}`);

        // Signed out, the sign-in page's autofill request (conditional mediation) signs in with the passkey: the
        // virtual authenticator answers it at once, as a person picking the passkey under the field would.
        await security.signOut();
        await page.goto('/app/login');
        await home.waitForUser(username);

        // A browser without the autofill: "Sign in with a passkey" alone, nothing typed.
        await context.addInitScript(() => {
          const credential = (globalThis as unknown as { PublicKeyCredential: Record<string, unknown> })
            .PublicKeyCredential;
          credential.isConditionalMediationAvailable = () => Promise.resolve(false);
        });
        await security.signOut();
        const login = new LoginPage(page);
        await login.open();
        expect(await page.getByTestId('login-username').getAttribute('autocomplete')).toBe('username webauthn');
        await h.screenshot(page, `passkeys-login-${width}`);
        await passkeys.signIn();
        await home.waitForUser(username);

        await security.open();
        await expect.poll(() => passkeys.names()).toEqual(['Laptop']);
        expect(await page.getByTestId('passkey-row').innerText()).not.toMatch(/Not yet/);
        const question = await passkeys.askRemove('Laptop');
        expect(await question.innerText()).toContain('Remove “Laptop”?');
        await passkeys.confirmRemove('Laptop');
        await page.getByTestId('passkeys-none').waitFor();

        // The authenticator still holds the credential, but the server no longer accepts it.
        await security.signOut();
        await login.open();
        await passkeys.signIn();
        await expect.poll(() => login.errorMessage.innerText()).toMatch(/passkey was not accepted/);
        expect(await page.getByTestId('nav-login').isVisible()).toBe(true);
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    }, 180_000);
  }
});
