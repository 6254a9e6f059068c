import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdminPage,
  HomePage,
  LoginPage,
  PasskeysSection,
  ReauthDialog,
  RegisterPage,
  SecurityPage,
} from './pages/index.js';
import type { BasePage } from './pages/index.js';
import { Authenticator } from './support/authenticator.js';
import { axeViolations } from './support/axe.js';
import { startHarness, type Harness } from './support/harness.js';
import { addVirtualAuthenticator } from './support/virtual-authenticator.js';

/**
 * A passkey after the password, and instead of it in "Confirm it's you", in Chromium with the DevTools Protocol's
 * virtual authenticator, at 390 px and 1280 px. A person whose only factor is a passkey signs in with the password
 * and then "Use a passkey" (the second step offers no code); an administrator sees their passkey counted and the
 * reset question naming it; once the sign-in is older than REAUTH_MAX_AGE (3 s here), removing the passkey asks
 * "Confirm it's you", which the passkey answers, and the removal goes through. Each screen is axe-clean and does
 * not scroll sideways (WCAG 2.2 SC 1.4.10).
 */
describe('a passkey as the second step and for re-authentication', () => {
  let h: Harness;
  const password = 'Juniper-lantern-61-quarry';
  const admin = { username: 'root', password: 'Admin-copper-kettle-93' };
  const MAX_AGE_MS = 3000;

  beforeAll(async () => {
    h = await startHarness({ publicUrlIsPageOrigin: true, env: { REAUTH_MAX_AGE: String(MAX_AGE_MS / 1000) } });
    await h.createAdmin(admin);
  });
  afterAll(async () => h?.close());

  /**
   * The virtual authenticator answers the sign-in page's background (autofill) request at once, which would sign
   * in before the password is typed: this browser says it has no autofill, as Firefox without it does.
   */
  const NO_AUTOFILL = (): void => {
    const browser = globalThis as unknown as {
      PublicKeyCredential: { isConditionalMediationAvailable?: () => Promise<boolean> };
    };
    browser.PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
  };

  /** No sideways scrolling and no serious axe violation on the page as it is now; `state` names the problems. */
  const check = async (page: BasePage, state: string): Promise<string[]> => {
    const problems: string[] = [];
    const { scrollWidth, innerWidth, wide } = await page.overflow();
    if (scrollWidth > innerWidth)
      problems.push(`${state}: ${scrollWidth} px wide in ${innerWidth}; ${wide.join('; ')}`);
    problems.push(...(await axeViolations(page.page)).map((line) => `${state}: ${line}`));
    return problems;
  };

  async function post(url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${h.baseUrl}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  }

  async function signIn(page: Page, who: { username: string; password: string }): Promise<void> {
    const login = new LoginPage(page);
    await login.open();
    await login.submitPassword(who.username, who.password);
    await new HomePage(page).waitForUser(who.username);
  }

  for (const width of [390, 1280]) {
    it(`signs in with password then passkey, confirms with the passkey, and the admin sees the count, at ${width} px`, async () => {
      const username = `kit${width}`;
      const viewport = { width, height: width < 600 ? 844 : 900 };
      const { context, page } = await h.newPage({ viewport, bypassCSP: true });
      const other = await h.newPage({ viewport, bypassCSP: true });
      const problems: string[] = [];
      try {
        await addVirtualAuthenticator(page);
        await context.addInitScript(NO_AUTOFILL);
        const register = new RegisterPage(page);
        await register.open();
        await register.fill({ username, email: `${username}@example.test`, password });
        await register.submit();
        const home = new HomePage(page);
        if (!(await page.getByTestId('nav-signout').isVisible())) await signIn(page, { username, password });
        await home.waitForUser(username);
        const security = new SecurityPage(page);
        await security.open();
        const passkeys = new PasskeysSection(page);
        await passkeys.add('Laptop');
        // Sign-in now asks for the passkey after the password: the page says two-factor is on.
        await expect.poll(() => security.mfaStatus.innerText()).toBe('Two-factor authentication is on (passkey).');

        // The administrator's list counts it, and the reset question says it goes too.
        await signIn(other.page, admin);
        const adminPage = new AdminPage(other.page);
        await adminPage.open();
        await expect.poll(() => adminPage.passkeyCount(username).innerText()).toBe('1');
        await adminPage.askResetTwoFactor(username);
        expect(await adminPage.question(username).innerText()).toContain('backup codes and 1 passkey are removed');
        problems.push(...(await check(adminPage, 'admin, reset question')));
        await h.screenshot(other.page, `passkeys-admin-${width}`);
        await adminPage.cancel(username);

        // The password, then the passkey: the account's only factor, so no code is asked for.
        await security.signOut();
        const login = new LoginPage(page);
        await login.open();
        await login.signInToSecondStep(username, password);
        await expect.poll(() => login.focused()).toBe('mfa-passkey');
        expect(await page.getByTestId('mfa-code').count()).toBe(0);
        problems.push(...(await check(login, 'second step')));
        await h.screenshot(page, `passkeys-second-step-${width}`);
        await login.usePasskey();
        await home.waitForUser(username);

        // An old sign-in: removing the passkey asks "Confirm it's you", and the passkey answers it.
        await security.open();
        await page.waitForTimeout(MAX_AGE_MS + 1000);
        await passkeys.askRemove('Laptop');
        await page.getByTestId('passkey-confirm-remove').click();
        const reauth = new ReauthDialog(page);
        await reauth.waitForOpen();
        await expect.poll(() => reauth.focused()).toBe('reauth-passkey');
        // A passkey is no code factor: the password alone would do too.
        expect(await page.getByTestId('reauth-code').count()).toBe(0);
        problems.push(...(await check(reauth, 'reauth dialog')));
        await h.screenshot(page, `passkeys-reauth-${width}`, { viewport: true });
        await reauth.usePasskey();
        await reauth.waitForClosed();
        await passkeys.notice.filter({ hasText: 'Passkey “Laptop” removed.' }).waitFor();
        await page.getByTestId('passkeys-none').waitFor();

        await other.page.reload();
        await expect.poll(() => adminPage.passkeyCount(username).innerText()).toBe('0');
      } finally {
        await other.context.close();
        await context.close();
      }
      expect(problems).toEqual([]);
    }, 180_000);
  }

  for (const width of [390, 1280]) {
    it(`keeps the code first beside an authenticator app; the passkey is the alternative, and confirms a change, at ${width} px`, async () => {
      const who = { username: `lea${width}`, email: `lea${width}@example.test`, password };
      await post('/api/auth/register', who);
      // An authenticator app first, through the API (its backup codes sign in below).
      const { access_token: token } = await post('/api/auth/login', { username: who.username, password });
      const { secret } = await post('/api/auth/2fa/setup', {}, String(token));
      const code = await new Authenticator(String(secret)).nextCode();
      const { backup_codes: backup } = await post('/api/auth/2fa/verify-setup', { code }, String(token));
      const [firstBackup] = backup as string[];

      const viewport = { width, height: width < 600 ? 844 : 900 };
      const { context, page } = await h.newPage({ viewport, bypassCSP: true });
      const problems: string[] = [];
      try {
        await addVirtualAuthenticator(page);
        await context.addInitScript(NO_AUTOFILL);
        const login = new LoginPage(page);
        const home = new HomePage(page);
        await login.open();
        await login.signInToSecondStep(who.username, password);
        await login.chooseMethod('backup');
        await login.submitCode(String(firstBackup));
        await home.waitForUser(who.username);
        const security = new SecurityPage(page);
        await security.open();
        const passkeys = new PasskeysSection(page);
        await passkeys.add('Phone');
        await expect.poll(() => security.mfaStatus.innerText()).toMatch(/on \(authenticator app and passkey\)/);

        await security.signOut();
        await login.open();
        await login.signInToSecondStep(who.username, password);
        // The code comes first; the passkey is offered after it, saying what it is for.
        await expect.poll(() => login.focused()).toBe('mfa-code');
        expect(await login.mfaStep.innerText()).toContain('Or confirm with a passkey instead of a code.');
        problems.push(...(await check(login, 'second step with a code and a passkey')));
        await login.usePasskey();
        await home.waitForUser(who.username);

        // "Confirm it's you" asks for password and code, or the passkey alone; the passkey answers it.
        await security.open();
        await page.waitForTimeout(MAX_AGE_MS + 1000);
        await page.getByTestId('totp-start').click();
        const reauth = new ReauthDialog(page);
        await reauth.waitForOpen();
        expect(await page.getByTestId('reauth-code').count()).toBe(1);
        problems.push(...(await check(reauth, 'reauth dialog with a code and a passkey')));
        await reauth.usePasskey();
        await reauth.waitForClosed();
        await security.qrImage.waitFor();
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    }, 180_000);
  }
});
