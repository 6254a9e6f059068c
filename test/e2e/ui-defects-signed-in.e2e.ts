import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminPage, HomePage, LoginPage, ProductsPage, SecurityPage, TokenPage } from './pages/index.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * Defects people found in the signed-in pages (Admin, Security, Products, Token inspector), each with the browser
 * step that catches it, at 390 px (a phone) and 1280 px. The forms, mails and /docs are in ui-defects.e2e.ts.
 */
describe('web-UI defects in the signed-in pages', () => {
  const WIDTHS = [390, 1280] as const;
  const PASSWORD = 'Granite-willow-47-harbour';
  const admin = { username: 'root', password: 'Admin-copper-kettle-93' };
  /** Per width: a plain user, and one with email codes as second factor. */
  const plain = (width: number) => ({
    username: `lena${width}`,
    email: `lena${width}@example.test`,
    password: PASSWORD,
  });
  const twoFactor = (width: number) => ({
    username: `milo${width}`,
    email: `milo${width}@example.test`,
    password: PASSWORD,
  });
  let h: Harness;

  const post = async (url: string, body: unknown, token?: string): Promise<Record<string, unknown>> => {
    const response = await fetch(`${h.baseUrl}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
  };

  /** The newest mailed code to `address` once more than `before` code mails reached it. */
  const nextCode = async (address: string, before: number): Promise<string> => {
    await expect.poll(() => h.mailbox.codeMails(address).length, { timeout: 15_000 }).toBeGreaterThan(before);
    return h.mailbox.latestCode(address);
  };

  beforeAll(async () => {
    h = await startHarness();
    await h.createAdmin(admin);
    for (const width of WIDTHS) {
      await post('/api/auth/register', plain(width));
      const who = twoFactor(width);
      await post('/api/auth/register', who);
      const { access_token: token } = await post('/api/auth/login', { username: who.username, password: who.password });
      await post('/api/auth/2fa/email/enable', {}, String(token));
      // (expect.poll works inside tests only.)
      for (let tries = 0; h.mailbox.codeMails(who.email).length === 0 && tries < 150; tries += 1)
        await new Promise((resolve) => setTimeout(resolve, 100));
      await post('/api/auth/2fa/email/verify-setup', { code: h.mailbox.latestCode(who.email) }, String(token));
    }
  });
  afterAll(async () => h?.close());

  const open = (width: number) => h.newPage({ viewport: { width, height: width < 600 ? 844 : 900 } });

  const signIn = async (page: Page, who: { username: string; password: string }): Promise<void> => {
    const login = new LoginPage(page);
    await login.open();
    await login.submitPassword(who.username, who.password);
    await new HomePage(page).waitForUser(who.username);
  };

  for (const width of WIDTHS) {
    it(`at ${width} px: a key press in the role menu makes nobody an administrator; Save asks first, naming the person`, async () => {
      const { context, page } = await open(width);
      const user = plain(width).username;
      const changes: string[] = [];
      page.on('request', (request) => {
        if (request.method() !== 'GET' && /\/api\/admin\/users\//.test(request.url())) changes.push(request.method());
      });
      try {
        await signIn(page, admin);
        const adminPage = new AdminPage(page);
        await adminPage.open();
        const menu = adminPage.roleMenu(user);
        await menu.waitFor();
        // Arrow keys on a closed <select> change its value (and fire "change") at once, as a person's would.
        await menu.focus();
        for (const key of ['ArrowDown', 'ArrowUp', 'End', 'Home', 'ArrowDown']) await menu.press(key);
        const chosen = await menu.inputValue();
        // Nothing was sent: after a reload the server's role shows, still a user.
        await page.reload();
        await menu.waitFor();
        expect(changes).toEqual([]);
        expect(await menu.inputValue()).toBe('user');
        // (The keys did pick "admin" in the menu.)
        expect(chosen).toBe('admin');

        // Save asks first, naming the person; No changes nothing.
        await adminPage.chooseRole(user, 'admin');
        await adminPage.saveRole(user);
        expect(await adminPage.question(user).innerText()).toContain(`Make ${user} an administrator?`);
        await adminPage.cancel(user);
        expect(await menu.inputValue()).toBe('user');
        expect(changes).toEqual([]);

        await adminPage.chooseRole(user, 'admin');
        await adminPage.saveRole(user);
        await adminPage.confirm(user);
        await expect.poll(() => changes).toEqual(['PATCH']);
        expect(await adminPage.fitsWidth()).toBe(true);
      } finally {
        await context.close();
      }
    });

    it(`at ${width} px: "Reset two-factor" asks before it wipes anything, and is not offered on the admin's own row`, async () => {
      const { context, page } = await open(width);
      const who = twoFactor(width);
      const changes: string[] = [];
      page.on('request', (request) => {
        if (request.method() !== 'GET' && /\/api\/admin\/users\//.test(request.url())) changes.push(request.method());
      });
      try {
        await signIn(page, admin);
        const adminPage = new AdminPage(page);
        await adminPage.open();
        await adminPage.askResetTwoFactor(who.username);
        expect(await adminPage.question(who.username).innerText()).toContain(`Reset two-factor for ${who.username}?`);
        await expect.poll(() => adminPage.focused()).toBe('admin-cancel');
        await adminPage.cancel(who.username);
        expect(changes).toEqual([]);
        // The person's second step is still asked for.
        const theirs = await open(width);
        try {
          const login = new LoginPage(theirs.page);
          await login.open();
          await login.signInToSecondStep(who.username, who.password);
        } finally {
          await theirs.context.close();
        }

        const own = adminPage.userRow(admin.username);
        expect(await own.getByTestId('admin-reset-2fa').count()).toBe(0);
        expect(await own.getByTestId('admin-lock').count()).toBe(0);
        expect(await own.getByTestId('admin-role').isDisabled()).toBe(true);
        expect(changes).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it(`at ${width} px: every button of the Sessions, Products and Admin tables is on screen, and no page scrolls sideways`, async () => {
      const { context, page } = await open(width);
      try {
        await signIn(page, admin);
        const security = new SecurityPage(page);
        await security.open();
        await security.sessionRows.first().waitFor();
        expect({ sessions: await security.controlsOutsideWindow() }).toEqual({ sessions: [] });
        expect(await security.fitsWidth()).toBe(true);

        const products = new ProductsPage(page);
        await products.open();
        const name = `Lantern with a long descriptive name ${width}`;
        await products.add({
          name,
          description: 'Brass and glass, with a handle, a hook for hanging and a wick that lasts all night long',
          price: '123456.78',
          quantity: '9000',
        });
        expect({ products: await products.controlsOutsideWindow() }).toEqual({ products: [] });
        await products.askDelete(name);
        expect({ 'products, delete asked': await products.controlsOutsideWindow() }).toEqual({
          'products, delete asked': [],
        });
        expect(await products.fitsWidth()).toBe(true);

        const adminPage = new AdminPage(page);
        await adminPage.open();
        await adminPage.userRow(plain(width).username).waitFor();
        await adminPage.auditRows.first().waitFor();
        expect({ admin: await adminPage.controlsOutsideWindow() }).toEqual({ admin: [] });
        await adminPage.askLock(plain(width).username);
        expect({ 'admin, lock asked': await adminPage.controlsOutsideWindow() }).toEqual({ 'admin, lock asked': [] });
        expect(await adminPage.fitsWidth()).toBe(true);
        await h.screenshot(page, `defect-admin-table-${width}`);
      } finally {
        await context.close();
      }
    });

    it(`at ${width} px: the product list says Loading… until its first page arrives, never "No products yet"`, async () => {
      const { context, page } = await open(width);
      try {
        await signIn(page, plain(width));
        let release: () => void = () => undefined;
        const held = new Promise<void>((resolve) => (release = resolve));
        await page.route(/\/api\/products\?/, async (route) => {
          await held;
          await route.continue();
        });
        const products = new ProductsPage(page);
        await products.open();
        await products.loadingTable.or(products.emptyMessage).waitFor();
        expect(await products.emptyMessage.count()).toBe(0);
        expect(await products.loadingTable.count()).toBe(1);
        release();
        await products.rows.first().or(products.emptyMessage).waitFor();
        expect(await products.loadingTable.count()).toBe(0);
      } finally {
        await context.close();
      }
    });

    it(`at ${width} px: the focus never falls to <body>: the username on load, the code after the password, the set-up's instructions, the notice after Delete`, async () => {
      const { context, page } = await open(width);
      const who = twoFactor(width);
      try {
        const login = new LoginPage(page);
        await login.open();
        expect(await login.focused()).toBe('login-username');
        await login.signInToSecondStep(who.username, who.password);
        await expect.poll(() => login.focused()).toBe('mfa-code');
        const before = h.mailbox.codeMails(who.email).length;
        await login.sendEmailCode();
        await login.submitCode(await nextCode(who.email, before));
        await new HomePage(page).waitForUser(who.username);

        const security = new SecurityPage(page);
        await security.open();
        await security.startTotp();
        await expect.poll(() => security.focused()).toBe('totp-instructions');

        const products = new ProductsPage(page);
        await products.open();
        const name = `Tin whistle ${width}`;
        await products.add({ name, description: 'In D', price: '9.5', quantity: '4' });
        await products.delete(name);
        await expect.poll(() => products.focused()).toBe('notice');
        expect(await products.notice.innerText()).toBe(`Deleted ${name}.`);
      } finally {
        await context.close();
      }
    });

    it(`at ${width} px: the token inspector shows your own token, with iat and exp as dates, not epoch numbers`, async () => {
      const { context, page } = await open(width);
      try {
        await signIn(page, plain(width));
        const token = new TokenPage(page);
        await token.open();
        await token.inspectMine();
        expect(await token.result.innerText()).toBe('Valid');
        expect(await token.claims.innerText()).toContain(plain(width).username);
        expect(await token.times.count()).toBe(1);
        const times = await token.times.innerText();
        expect(times).toMatch(/Issued\s+iat/);
        expect(times).toMatch(/Expires\s+exp/);
        // Dates with the year and how far they are from now; no 10-digit seconds since 1970.
        expect(times).toContain(String(new Date().getFullYear()));
        expect(times).toMatch(/ago|now/);
        expect(times).toMatch(/\bin \d+ minutes?\b/);
        expect(times).not.toMatch(/\b\d{10}\b/);
        expect(await token.fitsWidth()).toBe(true);
        await h.screenshot(page, `defect-token-${width}`);
      } finally {
        await context.close();
      }
    });
  }
});
