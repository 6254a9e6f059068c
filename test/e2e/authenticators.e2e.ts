import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HomePage, LoginPage, SecurityPage } from './pages/index.js';
import { Authenticator } from './support/authenticator.js';
import { axeViolations } from './support/axe.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * Two authenticator apps in Chromium, as a person with a phone and a tablet would: add both (the
 * secret read from the page, the codes from `oathtool`), rename one, sign in with the second, remove the first;
 * its codes stop working. On a phone (390 px) and a desktop (1280 px), each state axe-clean and
 * without sideways scrolling (WCAG 2.2 SC 1.4.10).
 */
describe('several authenticator apps in the browser', () => {
  let h: Harness;
  const password = 'Copper-meadow-61-lantern';

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  /** The width check and axe on the page as it is now, and a screenshot. */
  const check = async (security: SecurityPage, name: string, width: number): Promise<string[]> => {
    const problems: string[] = [];
    const { scrollWidth, innerWidth, wide } = await security.overflow();
    if (scrollWidth > innerWidth) problems.push(`${name}: ${scrollWidth} px wide in ${innerWidth}; ${wide.join('; ')}`);
    problems.push(...(await axeViolations(security.page)).map((line) => `${name}: ${line}`));
    await h.screenshot(security.page, `authenticators-${name}-${width}`);
    return problems;
  };

  /** Adds an app named `name` from the set-up on the page; returns the app (its secret read from the page). */
  const addApp = async (security: SecurityPage, name: string, first: boolean): Promise<Authenticator> => {
    const { secret } = await security.startTotp();
    expect(await security.focused()).toBe('totp-instructions');
    await security.nameTotp(name);
    const app = new Authenticator(secret.replace(/\s+/g, '').toUpperCase());
    if (first) expect(await security.verifyTotp(await app.nextCode())).toHaveLength(10);
    else await security.verifyAnotherTotp(await app.nextCode());
    // The confirmation takes the focus from the form that is gone.
    await expect.poll(() => security.focused()).toBe('notice');
    return app;
  };

  const signInWith = async (page: Page, username: string, app: Authenticator): Promise<void> => {
    const login = new LoginPage(page);
    await login.open();
    await login.signInToSecondStep(username, password);
    await login.chooseMethod('totp');
    await login.submitCode(await app.nextCode());
    await new HomePage(page).waitForUser(username);
  };

  for (const width of [390, 1280]) {
    it(`adds two apps, signs in with the second and removes the first, at ${width} px`, async () => {
      const username = `fern${width}`;
      const registered = await fetch(`${h.baseUrl}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password, email: `${username}@example.test` }),
      });
      expect(registered.status).toBe(201);
      const { context, page } = await h.newPage({
        viewport: { width, height: width < 600 ? 844 : 900 },
        bypassCSP: true,
      });
      const problems: string[] = [];
      try {
        await new LoginPage(page).open();
        await new LoginPage(page).submitPassword(username, password);
        await new HomePage(page).waitForUser(username);
        const security = new SecurityPage(page);
        await security.open();

        const phone = await addApp(security, 'Phone', true);
        expect(await security.notice.first().innerText()).toBe('Authenticator app turned on.');
        const tablet = await addApp(security, 'Tablet', false);
        expect(await security.notice.first().innerText()).toBe('Authenticator app “Tablet” added.');
        await expect.poll(() => security.authenticatorNames()).toEqual(['Phone', 'Tablet']);
        expect(await security.mfaStatus.innerText()).toMatch(/2 authenticator apps/);
        problems.push(...(await check(security, 'list', width)));
        // Rename inline: the field takes the focus, then the confirmation does.
        await security.startRenameAuthenticator('Tablet');
        expect(await security.focused()).toBe('authenticator-name-input');
        problems.push(...(await check(security, 'rename', width)));
        await security.saveAuthenticatorName('Kitchen tablet');
        await expect.poll(() => security.focused()).toBe('notice');
        await expect.poll(() => security.authenticatorNames()).toEqual(['Phone', 'Kitchen tablet']);

        await security.signOut();
        await signInWith(page, username, tablet);

        await security.open();
        await expect.poll(() => security.authenticatorNames()).toEqual(['Phone', 'Kitchen tablet']);
        const question = await security.askRemoveAuthenticator('Phone');
        expect(await question.innerText()).toContain('Remove “Phone”?');
        expect(await security.focused()).toBe('authenticator-cancel-remove');
        problems.push(...(await check(security, 'remove', width)));
        await security.confirmRemoveAuthenticator();
        await expect.poll(() => security.focused()).toBe('notice');
        await expect.poll(() => security.authenticatorNames()).toEqual(['Kitchen tablet']);

        // The removed app's codes no longer sign in; the other's still do.
        const withCode = async (app: Authenticator) =>
          (
            await fetch(`${h.baseUrl}/api/auth/login`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ username, password, totp_code: await app.nextCode() }),
            })
          ).status;
        expect(await withCode(phone)).toBe(401);
        expect(await withCode(tablet)).toBe(200);
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    }, 180_000);
  }
});
