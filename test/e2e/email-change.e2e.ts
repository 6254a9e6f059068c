import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HomePage, LoginPage, RegisterPage, SecurityPage } from './pages/index.js';
import { ForgotPasswordPage, ResetPasswordPage } from './pages/password-reset-pages.js';
import { axeViolations } from './support/axe.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * An account made without an email address gets one on the Security page, proves it with the
 * mailed link, and can then reset a forgotten password with it.
 */
describe('a person without an email address adds one and then uses it to reset a forgotten password', () => {
  const password = 'Maple-saddle-73-quartz';
  const newPassword = 'Orchard-copper-58-ribbon';
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it.each([390, 1280])('at %i px: add the address, open the link, forgot password, reset, sign in', async (width) => {
    const { context, page } = await h.newPage({ viewport: { width, height: 900 }, bypassCSP: true });
    const who = { username: `gina${width}`, email: '', password };
    const address = `gina${width}@example.test`;
    try {
      const register = new RegisterPage(page);
      await register.open();
      await register.fill(who);
      await register.submit();
      if (!(await page.getByTestId('nav-signout').isVisible())) {
        const login = new LoginPage(page);
        await login.open();
        await login.submitPassword(who.username, password);
      }
      await new HomePage(page).waitForUser(who.username);

      const security = new SecurityPage(page);
      await security.open();
      await expect.poll(() => security.currentEmail.innerText()).toMatch(/None/);
      await security.requestEmailChange(address);
      await security.notice.filter({ hasText: address }).waitFor();
      // The result is said where the focus now is.
      expect(await security.focused()).toBe('notice');
      expect(await security.pendingEmail.innerText()).toContain(address);
      expect(await security.fitsWidth()).toBe(true);
      expect(await axeViolations(page)).toEqual([]);
      await h.screenshot(page, `email-change-pending-${width}`);

      await expect.poll(() => h.mailbox.to(address).length, { timeout: 15_000 }).toBe(1);
      const mail = h.mailbox.to(address)[0];
      const token = /verify-email\?token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? '')?.[1];
      expect(token, mail?.text).toBeTruthy();
      await page.goto(`/app/verify-email?token=${encodeURIComponent(token!)}`);
      await page.locator('[data-testid="verify-result"][data-state="ok"]').waitFor();
      expect(await axeViolations(page)).toEqual([]);

      await security.open();
      await expect.poll(() => security.currentEmail.innerText()).toContain(address);
      expect(await security.currentEmail.innerText()).toMatch(/\(verified\)/);
      expect(await security.pendingEmail.count()).toBe(0);
      await new HomePage(page).signOut();

      const forgot = new ForgotPasswordPage(page);
      await forgot.open();
      await forgot.ask(address);
      await expect
        .poll(() => h.mailbox.to(address).filter((m) => /reset/i.test(m.subject)).length, { timeout: 15_000 })
        .toBe(1);
      const resetMail = h.mailbox.to(address).find((m) => /reset/i.test(m.subject));
      const resetToken = /reset-password\?token=([A-Za-z0-9_-]+)/.exec(resetMail?.text ?? '')?.[1];
      const reset = new ResetPasswordPage(page);
      await reset.openLink(resetToken!);
      await reset.setPassword(newPassword);

      const login = new LoginPage(page);
      await login.open();
      await login.submitPassword(address, newPassword);
      await new HomePage(page).waitForUser(who.username);
    } finally {
      await context.close();
    }
  });
});
