import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BasePage, HomePage, LoginPage, ProductsPage } from './pages/index.js';
import { axeViolations } from './support/axe.js';
import { startHarness, type Harness } from './support/harness.js';

/** A page as the tests see it: the layout's helpers (focus, width) on any route. */
class AnyPage extends BasePage {}

/**
 * Every page of the web UI on a phone (390 px, as an iPhone 12–15) and on a desktop (1280 px): nothing makes the
 * page scroll sideways (WCAG 2.2 SC 1.4.10 Reflow), and axe-core finds no `serious` or `critical` violation.
 */
describe('every page fits the screen and passes axe-core', () => {
  const user = { username: 'dora', email: 'dora@example.test', password: 'Pebble-harbour-29-lantern' };
  const admin = { username: 'root', password: 'Admin-copper-kettle-93' };
  const WIDTHS = [390, 1280] as const;
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    const registered = await fetch(`${h.baseUrl}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(user),
    });
    expect(registered.status).toBe(201);
    const created = await h.cli([
      'user',
      'create',
      '--username',
      admin.username,
      '--password',
      admin.password,
      '--role',
      'admin',
    ]);
    expect(created.code, created.stderr).toBe(0);
  });
  afterAll(async () => h?.close());

  /** The width check and axe on the page as it is; a screenshot of it in test/e2e/artifacts/. */
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

    it(`signed out, at ${width} px: sign-in, register, forgot and reset password, verify email, verify code, not found`, async () => {
      const { context, page } = await h.newPage({ viewport, bypassCSP: true });
      const problems: string[] = [];
      const pages: Array<[name: string, path: string, ready: string]> = [
        ['login', '/app/login', 'login-username'],
        ['register', '/app/register', 'register-username'],
        ['forgot-password', '/app/forgot-password', 'forgot-email'],
        ['reset-password', '/app/reset-password?token=from-the-email', 'reset-password'],
        ['verify-email', '/app/verify-email?token=from-the-email', 'verify-result'],
        ['verify-code', '/app/verify', 'proof-email'],
        ['not-found', '/app/no/such/page', 'not-found'],
      ];
      try {
        for (const [name, path, ready] of pages) {
          await page.goto(path);
          await page.getByTestId(ready).waitFor();
          if (name === 'verify-email')
            await page.locator('[data-testid="verify-result"][data-state="failed"]').waitFor();
          problems.push(...(await check(page, name, width)));
        }
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    });

    it(`signed in, at ${width} px: home, security, products, token`, async () => {
      const { context, page } = await h.newPage({ viewport, bypassCSP: true });
      const problems: string[] = [];
      try {
        await signIn(page, user);
        problems.push(...(await check(page, 'home', width)));

        await page.getByTestId('nav-security').click();
        await page.getByTestId('session-row').first().waitFor();
        problems.push(...(await check(page, 'security', width)));

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

        await page.getByTestId('nav-token').click();
        await page.getByTestId('token-use-mine').click();
        await page.getByTestId('token-inspect').click();
        await page.getByTestId('token-claims').waitFor();
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
        await page.getByTestId('nav-admin').click();
        await page.locator(`[data-testid="admin-user-row"][data-username="${user.username}"]`).waitFor();
        await page.getByTestId('audit-row').first().waitFor();
        problems.push(...(await check(page, 'admin', width)));
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    });
  }
});
