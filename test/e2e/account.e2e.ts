import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminPage, HomePage, LoginPage, ReauthDialog, SecurityPage } from './pages/index.js';
import { axeViolations } from './support/axe.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * A person's own data in Chromium, at 1280 and 390 px: "Download my data" saves a JSON file of
 * their account and no secret; "Delete account" (typed username, then "Confirm it's you" once the
 * sign-in is older than REAUTH_MAX_AGE, 3 s here) signs them out for good. An administrator signs
 * someone out everywhere and deletes an account, each after a question naming the person.
 */
describe('your data and your account', () => {
  const MAX_AGE_MS = 3000;
  const WIDTHS = [1280, 390] as const;
  const person = (width: number) => ({
    username: `fern${width}`,
    email: `fern${width}@example.test`,
    password: 'Willow-granite-73-ember',
  });
  const admin = { username: 'warden', password: 'Admin-lattice-58-cobalt' };
  let h: Harness;

  const register = async (who: { username: string; email?: string; password: string }): Promise<void> => {
    const response = await fetch(`${h.baseUrl}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(who),
    });
    expect(response.status).toBe(201);
  };

  const signIn = async (page: Page, who: { username: string; password: string }): Promise<void> => {
    const login = new LoginPage(page);
    await login.open();
    await login.submitPassword(who.username, who.password);
    await new HomePage(page).waitForUser(who.username);
  };

  beforeAll(async () => {
    h = await startHarness({ env: { REAUTH_MAX_AGE: String(MAX_AGE_MS / 1000) } });
    for (const width of WIDTHS) await register(person(width));
    await h.createAdmin(admin);
  });
  afterAll(async () => h?.close());

  for (const width of WIDTHS) {
    const viewport = { width, height: width < 600 ? 844 : 900 };

    it(`downloads my data, then deletes my account, at ${width} px`, async () => {
      const who = person(width);
      const { context, page } = await h.newPage({ viewport, bypassCSP: true });
      try {
        await signIn(page, who);
        const security = new SecurityPage(page);
        await security.open();

        const { fileName, data } = await security.downloadData();
        expect(fileName).toBe(`twofold-${who.username}-export.json`);
        expect(data.profile).toMatchObject({ username: who.username, email: who.email, role: 'user' });
        expect(data.two_factor).toEqual({
          totp_enabled: false,
          email_enabled: false,
          backup_codes_remaining: 0,
          totp_count: 0,
        });
        expect((data.sessions as Array<{ current: boolean }>).some((s) => s.current)).toBe(true);
        expect((data.audit_events as Array<{ type: string }>).map((e) => e.type)).toContain('login.succeeded');
        expect(JSON.stringify(data)).not.toMatch(/argon2|password|secret|hash/i);
        await security.notice.waitFor();

        // The button waits for the exact username.
        expect(await security.deleteButton.isDisabled()).toBe(true);
        await security.typeDeleteConfirmation(who.username.toUpperCase());
        expect(await security.deleteButton.isDisabled()).toBe(true);
        await security.typeDeleteConfirmation(who.username);
        expect(await security.deleteButton.isDisabled()).toBe(false);
        expect(await security.fitsWidth()).toBe(true);

        // The sign-in is older than REAUTH_MAX_AGE: "Confirm it's you" first.
        await page.waitForTimeout(MAX_AGE_MS + 1000);
        await security.deleteButton.click();
        const reauth = new ReauthDialog(page);
        await reauth.waitForOpen();
        expect(await axeViolations(page)).toEqual([]);
        await h.screenshot(page, `account-delete-reauth-${width}`, { viewport: true });
        await reauth.confirm(who.password);

        // Signed out, on the sign-in page, told why.
        const login = new LoginPage(page);
        await page.getByTestId('login-username').waitFor();
        expect(await login.notice.innerText()).toMatch(/account has been deleted/);
        await h.screenshot(page, `account-deleted-${width}`);

        // The account is gone: signing in fails like any wrong name.
        await login.submitPassword(who.username, who.password);
        await login.errorMessage.waitFor();
        expect(await login.errorMessage.innerText()).toMatch(/incorrect/i);
        // Nor does the refresh cookie bring the session back.
        await page.goto('/app/security');
        await page.getByTestId('login-username').waitFor();
      } finally {
        await context.close();
      }
    });
  }

  it('an administrator signs a person out everywhere, then deletes another account, each after naming them', async () => {
    const target = { username: 'gale', password: 'Saffron-quiver-64-atlas' };
    const leaver = { username: 'hollis', password: 'Marble-fathom-27-orbit' };
    await register(target);
    await register(leaver);
    const user = await h.newPage();
    const staff = await h.newPage({ viewport: { width: 390, height: 844 }, bypassCSP: true });
    try {
      await signIn(user.page, target);
      await new SecurityPage(user.page).open();

      await signIn(staff.page, admin);
      const adminPage = new AdminPage(staff.page);
      await adminPage.open();
      await adminPage.userRow(target.username).waitFor();
      // Not on your own row.
      expect(await adminPage.userRow(admin.username).getByTestId('admin-logout-all').count()).toBe(0);
      expect(await adminPage.userRow(admin.username).getByTestId('admin-delete').count()).toBe(0);

      await adminPage.askLogoutAll(target.username);
      expect(await adminPage.question(target.username).innerText()).toContain(
        `Sign ${target.username} out everywhere?`,
      );
      expect(await axeViolations(staff.page)).toEqual([]);
      expect(await adminPage.fitsWidth()).toBe(true);
      await h.screenshot(staff.page, 'admin-confirm-logout-all-390', { viewport: true });
      await adminPage.confirm(target.username);
      await adminPage.notice.waitFor();
      expect(await adminPage.notice.innerText()).toContain(`${target.username}: signed out everywhere`);

      // The person's next request finds the session over, and the app says so on the sign-in page.
      await user.page.getByTestId('nav-products').click();
      await user.page.getByTestId('login-username').waitFor();
      expect(await new LoginPage(user.page).notice.innerText()).toMatch(/session has ended/i);

      await adminPage.askDelete(leaver.username);
      expect(await adminPage.question(leaver.username).innerText()).toContain(`Delete ${leaver.username}'s account?`);
      expect(await axeViolations(staff.page)).toEqual([]);
      await adminPage.question(leaver.username).scrollIntoViewIfNeeded();
      await h.screenshot(staff.page, 'admin-confirm-delete-390', { viewport: true });
      await adminPage.confirm(leaver.username);
      await adminPage.userRow(leaver.username).waitFor({ state: 'detached' });
      expect(await adminPage.notice.innerText()).toContain(`${leaver.username}: account deleted`);
      await adminPage.filterAudit('account.deleted');
      await adminPage.auditRows.first().waitFor();
    } finally {
      await user.context.close();
      await staff.context.close();
    }
  });
});
