import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminPage, HomePage, LoginPage, SecurityPage } from './pages/index.js';
import { axeViolations } from './support/axe.js';
import { Authenticator, decodeQr } from './support/authenticator.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * REQUIRE_2FA=all in the browser: an account without a second factor signs in with its password,
 * is asked to set up an authenticator app (the real `oathtool` reads the QR code's secret), sees its
 * backup codes, and lands signed in. The step fits 390 px and passes axe-core.
 */
describe('a server that requires two-factor authentication', () => {
  const person = { username: 'dora', password: 'Willow-granite-73-beacon' };
  let h: Harness;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    h = await startHarness({ env: { REQUIRE_2FA: 'all' } });
    // An operator's account: made with the CLI, no second factor yet.
    await h.createAdmin(person);
    ({ context, page } = await h.newPage({ viewport: { width: 390, height: 844 }, bypassCSP: true }));
  });
  afterAll(async () => {
    await context?.close();
    await h?.close();
  });

  const problems = async (name: string): Promise<string[]> => {
    const { scrollWidth, innerWidth, wide } = await new LoginPage(page).overflow();
    const found = (await axeViolations(page)).map((line) => `${name}: ${line}`);
    if (scrollWidth > innerWidth) found.push(`${name}: ${scrollWidth} px wide in ${innerWidth} px: ${wide.join('; ')}`);
    return found;
  };

  it('signs in, sets up an authenticator app, shows the backup codes, and lands signed in', async () => {
    const login = new LoginPage(page);
    await login.open();
    await login.submitPassword(person.username, person.password);
    await login.setupStep.waitFor();
    // The focus moves to the new step's heading.
    await expect.poll(() => login.focused()).toBe('#mfa-setup-heading');
    expect(await problems('setup-390')).toEqual([]);
    await h.screenshot(page, 'page-login-setup-390');

    // The set-up step is the Security page's own authenticator set-up, called with the set-up token.
    const setup = new SecurityPage(page);
    const { qrSrc, secret } = await setup.startTotp();
    const qrSecret = new URL(await decodeQr(qrSrc)).searchParams.get('secret');
    expect(qrSecret).toBe(secret.replace(/\s+/g, ''));
    expect(await problems('setup-qr-390')).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(await problems('setup-qr-1280')).toEqual([]);
    await h.screenshot(page, 'page-login-setup-qr-1280');

    const authenticator = new Authenticator(qrSecret ?? '');
    const codes = await setup.verifyTotp(await authenticator.nextCode());
    expect(codes).toHaveLength(10);
    await expect.poll(() => login.focused()).toBe('mfa-setup-done');
    expect(await problems('setup-codes-1280')).toEqual([]);
    await h.screenshot(page, 'page-login-setup-codes-1280');

    await login.continueAfterSetup();
    const home = new HomePage(page);
    await home.waitForUser(person.username);
    // Signed in for real, with the second factor: the administration opens and lists the account.
    const admin = new AdminPage(page);
    await admin.open();
    await admin.userRow(person.username).waitFor();
    // A reload keeps the session: the set-up's answer set the refresh cookie as a login does.
    await page.reload();
    await admin.userRow(person.username).waitFor();
    expect(h.consoleErrors).toEqual([]);
  });
});
