import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminPage, BasePage, HomePage, LoginPage, ProductsPage, SecurityPage, TokenPage } from './pages/index.js';
import { Authenticator } from './support/authenticator.js';
import { axeViolations } from './support/axe.js';
import { startHarness, type Harness } from './support/harness.js';

/** Any page, as the tests see it: the layout's helpers (visit, focus, width) on any route. */
class AnyPage extends BasePage {}

/**
 * Every page of the web UI on a phone (390 px, as an iPhone 12–15) and on a desktop (1280 px): nothing makes the
 * page scroll sideways (WCAG 2.2 SC 1.4.10 Reflow), and axe-core finds no `serious` or `critical` violation. Pages
 * with more than one state are checked in each (the second sign-in step, the authenticator set-up, a product form,
 * a delete being confirmed).
 */
describe('every page fits the screen and passes axe-core', () => {
  /** One per width: the signed-in test turns on email codes for its own. */
  const person = (width: number): { username: string; email: string; password: string } => ({
    username: `dora${width}`,
    email: `dora${width}@example.test`,
    password: 'Pebble-harbour-29-lantern',
  });
  /** With email codes turned on, for the second sign-in step. */
  const twoFactor = { username: 'erin', email: 'erin@example.test', password: 'Thistle-quarry-84-beacon' };
  const admin = { username: 'root', password: 'Admin-copper-kettle-93' };
  const WIDTHS = [390, 1280] as const;
  const user = person(WIDTHS[0]);
  let h: Harness;

  const post = async (url: string, body: unknown, token?: string): Promise<Record<string, unknown>> => {
    const response = await fetch(`${h.baseUrl}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    expect(response.status, `${url}: ${response.status}`).toBeLessThan(300);
    return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
  };

  beforeAll(async () => {
    h = await startHarness();
    for (const width of WIDTHS) await post('/api/auth/register', person(width));
    await post('/api/auth/register', twoFactor);
    const { access_token: token } = await post('/api/auth/login', {
      username: twoFactor.username,
      password: twoFactor.password,
    });
    await post('/api/auth/2fa/email/enable', {}, String(token));
    // (expect.poll works inside tests only.)
    for (let tries = 0; h.mailbox.codeMails(twoFactor.email).length === 0 && tries < 150; tries += 1)
      await new Promise((resolve) => setTimeout(resolve, 100));
    await post('/api/auth/2fa/email/verify-setup', { code: h.mailbox.latestCode(twoFactor.email) }, String(token));
    await h.createAdmin(admin);
  });
  afterAll(async () => h?.close());

  /** The width check and axe on the page as it is now; a screenshot of it in test/e2e/artifacts/. */
  const check = async (page: Page, name: string, width: number): Promise<string[]> => {
    const problems: string[] = [];
    const { scrollWidth, innerWidth, wide } = await new AnyPage(page).overflow();
    if (scrollWidth > innerWidth)
      problems.push(`${name}: ${scrollWidth} px wide in a ${innerWidth} px window; past the edge: ${wide.join('; ')}`);
    problems.push(...(await axeViolations(page)).map((line) => `${name}: ${line}`));
    await h.screenshot(page, `page-${name}-${width}`);
    return problems;
  };

  const signIn = async (page: Page, who: { username: string; password: string }): Promise<void> => {
    const login = new LoginPage(page);
    await login.open();
    await login.submitPassword(who.username, who.password);
    await new HomePage(page).waitForUser(who.username);
  };

  for (const width of WIDTHS) {
    const viewport = { width, height: width < 600 ? 844 : 900 };

    it(`signed out, at ${width} px: sign-in and its second step, register, forgot and reset password, verify email, verify code, not found`, async () => {
      const { context, page } = await h.newPage({ viewport, bypassCSP: true });
      const any = new AnyPage(page);
      const problems: string[] = [];
      const pages: Array<[name: string, path: string, ready: string]> = [
        ['login', '/app/login', 'login-username'],
        ['register', '/app/register', 'register-username'],
        ['forgot-password', '/app/forgot-password', 'forgot-email'],
        ['reset-password', '/app/reset-password?token=from-the-email', 'reset-link-invalid'],
        ['verify-email', '/app/verify-email?token=from-the-email', 'verify-result'],
        ['verify-code', '/app/verify', 'proof-email'],
        ['not-found', '/app/no/such/page', 'not-found'],
      ];
      try {
        for (const [name, path, ready] of pages) {
          await any.visit(path, ready);
          // The made-up link is refused; the page says so once the server has answered.
          if (name === 'verify-email') await page.locator('[data-state="failed"]').waitFor();
          problems.push(...(await check(page, name, width)));
        }
        const login = new LoginPage(page);
        await login.open();
        await login.signInToSecondStep(twoFactor.username, twoFactor.password);
        problems.push(...(await check(page, 'login-second-step', width)));
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    });

    it(`signed in, at ${width} px: home, security, products, token`, async () => {
      const { context, page } = await h.newPage({ viewport, bypassCSP: true });
      const problems: string[] = [];
      try {
        await signIn(page, person(width));
        problems.push(...(await check(page, 'home', width)));

        const security = new SecurityPage(page);
        await security.open();
        await security.sessionRows.first().waitFor();
        problems.push(...(await check(page, 'security', width)));
        const { secret } = await security.startTotp();
        problems.push(...(await check(page, 'security-totp', width)));
        // Email codes on: the confirmation and the new backup codes.
        const { email } = person(width);
        await security.enableEmail();
        await expect.poll(() => h.mailbox.codeMails(email).length, { timeout: 15_000 }).toBe(1);
        await security.verifyEmail(h.mailbox.latestCode(email));
        await security.shownBackupCodes();
        problems.push(...(await check(page, 'security-backup-codes', width)));
        // The authenticator set up (its form stayed open): the list of apps, and removing one asks first.
        await security.nameTotp('Phone');
        await security.verifyTotp(await new Authenticator(secret).nextCode());
        await security.authenticatorRows.first().waitFor();
        problems.push(...(await check(page, 'security-authenticators', width)));
        await security.askRemoveAuthenticator('Phone');
        problems.push(...(await check(page, 'security-authenticator-remove', width)));
        await security.cancelRemoveAuthenticator();
        // A change of address waiting for its link: the pending line and the notice.
        await security.requestEmailChange(`dora${width}-new@example.test`);
        await security.notice.filter({ hasText: `dora${width}-new@example.test` }).waitFor();
        problems.push(...(await check(page, 'security-email-pending', width)));

        const products = new ProductsPage(page);
        await products.open();
        const name = `Brass compass ${width}`;
        await products.add({
          name,
          description: 'Pocket size, with a hinged lid and a luminous dial for reading at night',
          price: '1249.5',
          quantity: '1200',
        });
        problems.push(...(await check(page, 'products', width)));
        await products.openForm(name);
        problems.push(...(await check(page, 'products-form', width)));
        await products.cancelForm();
        await products.askDelete(name);
        problems.push(...(await check(page, 'products-delete', width)));

        const token = new TokenPage(page);
        await token.open();
        await token.inspectMine();
        problems.push(...(await check(page, 'token', width)));
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    });

    it(`as an administrator, at ${width} px: admin`, async () => {
      const { context, page } = await h.newPage({ viewport, bypassCSP: true });
      const problems: string[] = [];
      try {
        await signIn(page, admin);
        const adminPage = new AdminPage(page);
        await adminPage.open();
        await adminPage.userRow(user.username).waitFor();
        await adminPage.auditRows.first().waitFor();
        problems.push(...(await check(page, 'admin', width)));
        // The questions an action asks first, naming the person, pass the same checks.
        await adminPage.askResetTwoFactor(twoFactor.username);
        problems.push(...(await check(page, 'admin-confirm-reset', width)));
        await adminPage.cancel(twoFactor.username);
        await adminPage.chooseRole(user.username, 'admin');
        await adminPage.saveRole(user.username);
        problems.push(...(await check(page, 'admin-confirm-role', width)));
        await adminPage.cancel(user.username);
        await adminPage.askDelete(user.username);
        problems.push(...(await check(page, 'admin-confirm-delete', width)));
        await adminPage.cancel(user.username);
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    });
  }

  it('administration asks before it changes anyone, names the person, and offers nothing against your own account', async () => {
    const { context, page } = await h.newPage();
    const changes: string[] = [];
    page.on('request', (request) => {
      if (request.method() !== 'GET' && /\/api\/admin\/users\//.test(request.url()))
        changes.push(`${request.method()} ${new URL(request.url()).pathname}`);
    });
    try {
      await signIn(page, admin);
      const adminPage = new AdminPage(page);
      await adminPage.open();
      const row = adminPage.userRow(user.username);
      await row.waitFor();

      // Picking a role in the menu (a key press does the same) changes nothing until Save and Yes.
      await adminPage.chooseRole(user.username, 'admin');
      await row.getByTestId('admin-role').press('ArrowUp');
      expect(changes).toEqual([]);
      await adminPage.chooseRole(user.username, 'admin');
      await adminPage.saveRole(user.username);
      expect(await adminPage.question(user.username).innerText()).toContain(`Make ${user.username} an administrator?`);
      await expect.poll(() => adminPage.focused()).toBe('admin-cancel');
      await adminPage.cancel(user.username);
      expect(await row.getByTestId('admin-role').inputValue()).toBe('user');
      expect(changes).toEqual([]);

      // Reset two-factor and Lock name the person and wait for Yes.
      await adminPage.askResetTwoFactor(twoFactor.username);
      expect(await adminPage.question(twoFactor.username).innerText()).toContain(
        `Reset two-factor for ${twoFactor.username}?`,
      );
      await adminPage.cancel(twoFactor.username);
      await adminPage.askLock(user.username);
      expect(await adminPage.question(user.username).innerText()).toContain(`Lock ${user.username}?`);
      expect(changes).toEqual([]);
      await adminPage.confirm(user.username);
      await row.getByTestId('admin-unlock').waitFor();
      expect(changes).toEqual([`PATCH /api/admin/users/${await row.getAttribute('data-user-id')}`]);
      await adminPage.unlock(user.username);

      // Your own row: no lock, no reset, no role menu to change.
      const own = adminPage.userRow(admin.username);
      expect(await own.getByTestId('admin-lock').count()).toBe(0);
      expect(await own.getByTestId('admin-reset-2fa').count()).toBe(0);
      expect(await own.getByTestId('admin-role').isDisabled()).toBe(true);

      // The event filter lists the kinds of events by name.
      await adminPage.filterAudit('account.locked');
      await expect
        .poll(
          async () =>
            new Set(await adminPage.auditRows.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type')))),
        )
        .toEqual(new Set(['account.locked']));
    } finally {
      await context.close();
    }
  });

  it('says "Loading…" (aria-busy) instead of an empty list while products, sessions, users and the audit log load', async () => {
    const { context, page } = await h.newPage();
    try {
      await signIn(page, admin);
      /** Holds the answers of `api` until the page shows its loading state, then lets them through. */
      const whileHeld = async (api: RegExp, open: () => Promise<void>, loaded: () => Promise<void>) => {
        let release: () => void = () => undefined;
        const held = new Promise<void>((resolve) => (release = resolve));
        await page.route(api, async (route) => {
          await held;
          await route.continue();
        });
        const any = new AnyPage(page);
        await open();
        await any.loadingTable.first().waitFor();
        release();
        await loaded();
        expect(await any.loadingTable.count()).toBe(0);
        await page.unroute(api);
      };

      const products = new ProductsPage(page);
      await whileHeld(
        /\/api\/products\?/,
        () => products.open(),
        // (The other tests of this file may have added products.)
        () => products.rows.first().or(page.getByText('No products yet.')).waitFor(),
      );
      const security = new SecurityPage(page);
      await whileHeld(
        /\/api\/auth\/sessions$/,
        () => security.open(),
        () => security.sessionRows.first().waitFor(),
      );
      const adminPage = new AdminPage(page);
      await whileHeld(
        /\/api\/admin\/(users|audit)\?/,
        () => adminPage.open(),
        async () => {
          await adminPage.userRow(user.username).waitFor();
          await adminPage.auditRows.first().waitFor();
        },
      );
    } finally {
      await context.close();
    }
  });
});
