import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HomePage, LoginPage, PasskeysSection, RegisterPage, SecurityPage } from './pages/index.js';
import { axeViolations } from './support/axe.js';
import { startHarness, type Harness } from './support/harness.js';
import { addVirtualAuthenticator } from './support/virtual-authenticator.js';

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

  /**
   * The virtual authenticator answers the autofill's background request at once, so every visit to the sign-in
   * page would sign in by itself. The page's browser says it has no autofill (as Firefox without it does) unless
   * the test switches it on (`setAutofill`) for the page's next load.
   */
  const AUTOFILL_SWITCH = (): void => {
    const browser = globalThis as unknown as {
      PublicKeyCredential: { isConditionalMediationAvailable?: () => Promise<boolean> };
      sessionStorage: { getItem(key: string): string | null };
    };
    browser.PublicKeyCredential.isConditionalMediationAvailable = () =>
      Promise.resolve(browser.sessionStorage.getItem('e2e-autofill') === 'on');
  };
  const setAutofill = (page: Page, on: boolean): Promise<void> =>
    page.evaluate(
      (value) =>
        (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem(
          'e2e-autofill',
          value,
        ),
      on ? 'on' : 'off',
    );

  /** No sideways scrolling and no serious axe violation on the page as it is now; `state` names the problems. */
  const check = async (page: SecurityPage, state: string): Promise<string[]> => {
    const problems: string[] = [];
    const { scrollWidth, innerWidth, wide } = await page.overflow();
    if (scrollWidth > innerWidth)
      problems.push(`${state}: ${scrollWidth} px wide in ${innerWidth}; ${wide.join('; ')}`);
    problems.push(...(await axeViolations(page.page)).map((line) => `${state}: ${line}`));
    return problems;
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
        const { cdp, authenticatorId } = await addVirtualAuthenticator(page);
        await context.addInitScript(AUTOFILL_SWITCH);
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

        problems.push(...(await check(security, 'listed')));
        await h.screenshot(page, `passkeys-security-${width}`);

        // Signed out, the sign-in page's autofill request (conditional mediation) signs in with the passkey: the
        // virtual authenticator answers it at once, as a person picking the passkey under the field would.
        await security.signOut();
        await setAutofill(page, true);
        await page.goto('/app/login');
        await home.waitForUser(username);

        // A browser without the autofill: "Sign in with a passkey" alone, nothing typed.
        await setAutofill(page, false);
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
        expect(await passkeys.focused()).toBe('passkey-cancel-remove');
        problems.push(...(await check(security, 'remove')));
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
