import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdminPage,
  HomePage,
  LoginPage,
  ProductsPage,
  ReauthDialog,
  RegisterPage,
  SecurityPage,
  TokenPage,
} from './pages/index.js';
import { Authenticator, decodeQr } from './support/authenticator.js';
import { axeViolations } from './support/axe.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * The journeys of the web UI, in order, as one person (and later an administrator) would take them
 * in the browser: each step starts where the previous one left the page.
 */
describe('a person uses Twofold in the browser', () => {
  const user = { username: 'alice', email: 'alice@example.test', password: 'Lantern-orchid-57-gravel' };
  const admin = { username: 'root', password: 'Admin-copper-kettle-93' };

  let h: Harness;
  let context: BrowserContext;
  let page: Page;
  let authenticator: Authenticator;
  let backupCodes: string[] = [];
  let failed: string | undefined;
  /**
   * Console lines the journey provokes on purpose: Chromium logs "Failed to load resource" for any
   * answer of 400 or more, and the lock step makes the locked person's refresh (401, the lock ended
   * the session) and sign-in (403) fail. Only those lines, and only in that step, are allowed.
   */
  const provoked = new Set<number>();
  const provokedFailure = /Failed to load resource: the server responded with a status of (401|403) /;
  /** Every API answer of 400 or more, to explain the console's "Failed to load resource" lines. */
  const failedResponses: string[] = [];
  const watch = (watched: Page): void => {
    watched.on('response', (response) => {
      if (response.status() >= 400)
        failedResponses.push(
          `${response.status()} ${response.request().method()} ${new URL(response.url()).pathname} (page ${new URL(watched.url()).pathname})`,
        );
    });
  };

  /** Ordered steps: once one fails, the later ones are skipped (they start from its end state). */
  const step = (name: string, body: () => Promise<void>, timeout?: number): void => {
    it(
      name,
      async (ctx) => {
        if (failed) ctx.skip(`an earlier step failed: ${failed}`);
        try {
          await body();
        } catch (error) {
          failed = name;
          if (page && !page.isClosed())
            await h.screenshot(page, `failed-${name.replace(/\W+/g, '-')}`).catch(() => undefined);
          throw error;
        }
      },
      timeout,
    );
  };

  /** Waits until a new code mail reaches `address` after `before` of them, and returns its code. */
  const nextMailedCode = async (address: string, before: number): Promise<string> => {
    await expect.poll(() => h.mailbox.codeMails(address).length, { timeout: 15_000 }).toBeGreaterThan(before);
    return h.mailbox.latestCode(address);
  };

  /** Signs `user` in through the login page up to the second step (signing out first if needed). */
  const toSecondStep = async (): Promise<LoginPage> => {
    const login = new LoginPage(page);
    await login.open();
    await login.signInToSecondStep(user.username, user.password);
    return login;
  };

  beforeAll(async () => {
    h = await startHarness();
    ({ context, page } = await h.newPage());
    watch(page);
  });
  afterAll(async () => {
    await context?.close();
    await h?.close();
  });

  step('registers with an email address', async () => {
    const register = new RegisterPage(page);
    await register.open();
    await register.fill(user);
    await register.strength.waitFor();
    await h.screenshot(page, 'register');
    await register.submit();
    // The confirmation message went to the real SMTP server.
    await expect.poll(() => h.mailbox.to(user.email).length, { timeout: 15_000 }).toBeGreaterThan(0);
  });

  step('signs in with the password', async () => {
    const home = new HomePage(page);
    if (await page.getByTestId('nav-signout').isVisible()) await home.signOut();
    const login = new LoginPage(page);
    await login.open();
    // The first field has the focus as the page opens.
    expect(await login.focused()).toBe('login-username');
    await login.submitPassword(user.username, user.password);
    await home.waitForUser(user.username);
    await expect(await home.role.innerText()).toMatch(/user/i);
  });

  step('skips the navigation from the keyboard', async () => {
    const home = new HomePage(page);
    await page.goto('/app/');
    await home.waitForUser(user.username);
    // "Skip to main content" is the first stop of the Tab key and moves the focus to <main>.
    await page.keyboard.press('Tab');
    expect(await home.focused()).toBe('skip-link');
    await page.keyboard.press('Enter');
    expect(await home.focused()).toBe('#main');
    await page.keyboard.press('Tab');
    // The next stop is inside the page's own content, past the navigation.
    expect(await home.focusIsIn('main')).toBe(true);
  });

  step('sets up the authenticator from the QR code and sees 10 backup codes', async () => {
    const security = new SecurityPage(page);
    await security.open();
    const { qrSrc, secret } = await security.startTotp();
    // The set-up's instructions take the focus from the button that opened it (and is gone).
    expect(await security.focused()).toBe('totp-instructions');
    await h.screenshot(page, 'security-qr');

    // Read the QR code as a phone would: a real decoder on the image the page shows.
    const decoded = new URL(await decodeQr(qrSrc));
    expect(decoded.protocol).toBe('otpauth:');
    expect(decoded.host).toBe('totp');
    expect(decodeURIComponent(decoded.pathname)).toContain(user.username);
    const qrSecret = decoded.searchParams.get('secret') ?? '';
    expect(qrSecret).toBe(secret.replace(/\s+/g, '').toUpperCase());

    authenticator = new Authenticator(qrSecret);
    backupCodes = await security.verifyTotp(await authenticator.nextCode());
    // The confirmation, just above the new codes, takes the focus.
    await expect.poll(() => security.focused()).toBe('notice');
    expect(await security.notice.innerText()).toBe('Authenticator app turned on.');
    expect(backupCodes).toHaveLength(10);
    expect(new Set(backupCodes).size).toBe(10);
    await h.screenshot(page, 'backup-codes');
  });

  step(
    'signs out and in again with the authenticator as second step',
    async () => {
      await new HomePage(page).signOut();
      const login = await toSecondStep();
      // The second step's field takes the focus from the (disabled, then gone) sign-in button.
      await expect.poll(() => login.focused()).toBe('mfa-code');
      await h.screenshot(page, 'mfa-step');
      await login.chooseMethod('totp');
      await login.submitCode(await authenticator.nextCode());
      const home = new HomePage(page);
      await home.waitForUser(user.username);
      await expect(await home.mfaStatus.innerText()).toMatch(/authenticator/i);
      await h.screenshot(page, 'home');
    },
    60_000,
  );

  step('stays signed in across a reload, with no token in web storage', async () => {
    await page.reload();
    await new HomePage(page).waitForUser(user.username);
    // (No DOM lib in this tsconfig: the storages are typed by hand.)
    const stored = await page.evaluate(() => {
      const web = globalThis as unknown as {
        localStorage: Record<string, string>;
        sessionStorage: Record<string, string>;
      };
      return JSON.stringify({ ...web.localStorage, ...web.sessionStorage });
    });
    expect(stored).not.toMatch(/eyJ/); // no JWT (the access token lives in memory only)
  });

  step('signs in with a backup code', async () => {
    await new HomePage(page).signOut();
    const login = await toSecondStep();
    await login.chooseMethod('backup');
    await login.submitCode(backupCodes[0]!);
    await new HomePage(page).waitForUser(user.username);
  });

  step('turns on email codes with a mailed code', async () => {
    const security = new SecurityPage(page);
    await security.open();
    const before = h.mailbox.codeMails(user.email).length;
    await security.enableEmail();
    await security.verifyEmail(await nextMailedCode(user.email, before));
    await expect.poll(async () => security.mfaStatus.innerText(), { timeout: 15_000 }).toMatch(/e-?mail/i);
    await h.screenshot(page, 'security-email');
  });

  step('signs in with a mailed code', async () => {
    await new HomePage(page).signOut();
    const login = await toSecondStep();
    await login.chooseMethod('email');
    const before = h.mailbox.codeMails(user.email).length;
    await login.sendEmailCode();
    const code = await nextMailedCode(user.email, before);
    await login.resendCountdown.waitFor();
    await h.screenshot(page, 'mfa-email');
    await login.submitCode(code);
    await new HomePage(page).waitForUser(user.username);
  });

  step('adds, edits and deletes a product, with prices in two decimals', async () => {
    const products = new ProductsPage(page);
    await products.open();
    // The form takes the focus when it opens and gives it back to its button when cancelled.
    await products.openForm();
    await expect.poll(() => products.focused()).toBe('product-name');
    await products.cancelForm();
    await expect.poll(() => products.focused()).toBe('product-add');
    await products.add({ name: 'Brass compass', description: 'Pocket size, with lid', price: '24.5', quantity: '3' });
    await expect.poll(() => products.focused()).toBe('notice');
    expect(await products.notice.innerText()).toBe('Added Brass compass.');
    await expect(await products.row('Brass compass').innerText()).toContain('24.50');
    await products.add({ name: 'Field notebook', description: 'Squared paper', price: '7', quantity: '12' });
    await expect(await products.row('Field notebook').innerText()).toContain('7.00');
    await h.screenshot(page, 'products');

    await products.edit('Brass compass', { name: 'Brass compass (large)', price: '31.99', quantity: '2' });
    const edited = await products.row('Brass compass (large)').innerText();
    expect(edited).toContain('31.99');
    await products.row('Brass compass').waitFor({ state: 'detached' });

    // "Delete" asks first, with the focus on the answer that changes nothing; "Keep it" gives it back to Delete.
    await products.askDelete('Field notebook');
    await expect.poll(() => products.focused()).toBe('product-keep');
    await products.keepProduct('Field notebook');
    await expect.poll(() => products.focused()).toBe('product-delete');
    await products.delete('Field notebook');
    // The row went with the focused button: the confirmation takes the focus.
    await expect.poll(() => products.focused()).toBe('notice');
    expect(await products.notice.innerText()).toBe('Deleted Field notebook.');
    await expect(await products.rows.count()).toBe(1);
  });

  step('inspects a valid token and a garbage one', async () => {
    // The access token, as an API client gets it: password, then a backup code as second step.
    const post = async (url: string, body: unknown): Promise<Record<string, unknown>> => {
      const response = await fetch(`${h.baseUrl}${url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, `${url}: ${response.status}`).toBe(200);
      return (await response.json()) as Record<string, unknown>;
    };
    const challenge = await post('/api/auth/login', { username: user.username, password: user.password });
    const tokens = await post('/api/auth/2fa/login', {
      mfa_token: challenge.mfa_token,
      code: backupCodes[1],
      method: 'backup_code',
    });
    const accessToken = String(tokens.access_token);

    const inspector = new TokenPage(page);
    await inspector.open();
    await inspector.inspect(accessToken, 'Valid');
    const claims = await inspector.claims.innerText();
    expect(claims).toContain(user.username);
    expect(claims).toContain('amr');
    await h.screenshot(page, 'token');

    await inspector.inspect('this.is-not-a.token', 'Invalid');
    await expect(await inspector.reason.innerText()).toMatch(/malformed/i);
    await h.screenshot(page, 'token-invalid');
  });

  step('an administrator locks and unlocks the user', async () => {
    await h.createAdmin(admin);

    const adminSide = await h.newPage();
    watch(adminSide.page);
    try {
      const adminLogin = new LoginPage(adminSide.page);
      await adminLogin.open();
      await adminLogin.submitPassword(admin.username, admin.password);
      await new HomePage(adminSide.page).waitForUser(admin.username);
      const adminPage = new AdminPage(adminSide.page);
      await adminPage.open();
      await adminPage.userRow(user.username).waitFor();
      await adminPage.lock(user.username);
      await expect.poll(() => adminPage.focused()).toBe('notice');
      expect(await adminPage.notice.innerText()).toBe(`${user.username}: locked.`);
      await h.screenshot(adminSide.page, 'admin');

      // The locked person cannot sign in; the page says so.
      const provokedFrom = h.consoleErrors.length;
      const login = new LoginPage(page);
      await login.open();
      await login.submitPassword(user.username, user.password);
      await login.errorMessage.waitFor();
      expect(await login.errorMessage.innerText()).not.toBe('');
      await expect(await login.mfaStep.isVisible()).toBe(false);
      await h.screenshot(page, 'login-locked');

      await adminPage.unlock(user.username);
      await login.open();
      await login.signInToSecondStep(user.username, user.password);
      await login.chooseMethod('backup');
      await login.submitCode(backupCodes[2]!);
      await new HomePage(page).waitForUser(user.username);
      h.consoleErrors.forEach((line, index) => {
        if (index >= provokedFrom && provokedFailure.test(line)) provoked.add(index);
      });
    } finally {
      await adminSide.context.close();
    }
  });

  step('the sign-in page renders on its own', async () => {
    await new HomePage(page).signOut();
    await new LoginPage(page).open();
    await h.screenshot(page, 'login');
  });

  it('saw no errors in the browser console during the whole run (apart from the locked sign-in)', () => {
    const unexpected = h.consoleErrors.filter((_, index) => !provoked.has(index));
    expect(unexpected, `API answers of 400 or more:\n${failedResponses.join('\n')}`).toEqual([]);
  });
});

/**
 * Recent authentication (the HTTP contract "Security rules") on a server of its own whose REAUTH_MAX_AGE is
 * 3 s: the server runs on real time, so the journey waits out that age instead of 5 minutes.
 */
describe('a person confirms it is them before a sensitive change', () => {
  const person = { username: 'bob', email: 'bob@example.test', password: 'Quartz-meadow-48-lantern' };
  const newPassword = 'Harbour-thistle-62-copper';
  const MAX_AGE_MS = 3000;
  let h: Harness;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    h = await startHarness({ env: { REAUTH_MAX_AGE: String(MAX_AGE_MS / 1000) } });
    // bypassCSP: axe-core is injected to check the dialog.
    ({ context, page } = await h.newPage({ bypassCSP: true }));
  });
  afterAll(async () => {
    await context?.close();
    await h?.close();
  });

  /** Lets the sign-in grow older than REAUTH_MAX_AGE (the server's clock is the real one). */
  const outliveRecentSignIn = () => page.waitForTimeout(MAX_AGE_MS + 1000);

  it('asks for the password again, carries on with the change once confirmed, and changes nothing when cancelled', async () => {
    const register = new RegisterPage(page);
    await register.open();
    await register.fill(person);
    await register.submit();
    const home = new HomePage(page);
    if (await page.getByTestId('nav-signout').isVisible()) await home.signOut();
    const login = new LoginPage(page);
    await login.open();
    await login.submitPassword(person.username, person.password);
    await home.waitForUser(person.username);

    const security = new SecurityPage(page);
    const reauth = new ReauthDialog(page);
    await security.open();
    await outliveRecentSignIn();

    // Cancelled: the authenticator is not set up, and the page says why.
    await page.getByTestId('totp-start').click();
    await reauth.waitForOpen();
    expect(await reauth.focused()).toBe('reauth-password');
    expect(await axeViolations(page)).toEqual([]);
    await h.screenshot(page, 'reauth-dialog-1280', { viewport: true });
    await reauth.cancel();
    await security.errorMessage.filter({ hasText: 'Nothing was changed' }).waitFor();
    expect(await security.qrImage.count()).toBe(0);
    // Focus goes back to the button that opened the dialog (once its request has ended).
    await expect.poll(() => reauth.focused()).toBe('totp-start');

    // A wrong password keeps the dialog open with the reason; the right one finishes the setup start.
    await page.getByTestId('totp-start').click();
    await reauth.waitForOpen();
    await reauth.confirm('not my password');
    await reauth.dialogError.waitFor();
    expect(await reauth.dialogError.innerText()).toMatch(/incorrect/i);
    await reauth.confirm(person.password);
    await reauth.waitForClosed();
    await security.qrImage.waitFor();

    // On a phone-sized screen: the password change waits for the dialog, then goes through.
    await page.setViewportSize({ width: 390, height: 844 });
    await outliveRecentSignIn();
    await security.changePassword(person.password, newPassword);
    await reauth.waitForOpen();
    expect(await axeViolations(page)).toEqual([]);
    expect(await reauth.fitsWidth()).toBe(true);
    await h.screenshot(page, 'reauth-dialog-390', { viewport: true });
    await reauth.confirm(person.password);
    await reauth.waitForClosed();
    await security.notice.waitFor();

    await home.signOut();
    await login.open();
    await login.submitPassword(person.username, newPassword);
    await home.waitForUser(person.username);
  }, 90_000);
});
