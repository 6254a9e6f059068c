import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HomePage, LoginPage, RegisterPage } from './pages/index.js';
import { ForgotPasswordPage, ResetPasswordPage } from './pages/password-reset-pages.js';
import { axeViolations } from './support/axe.js';
import { startHarness, type Harness } from './support/harness.js';

/** A forgotten password, in the browser: the mailed link's page checks the link before it asks for anything. */
describe('a person who forgot their password sets a new one from the mailed link', () => {
  const person = { username: 'frank', email: 'frank@example.test', password: 'Copper-meadow-41-lantern' };
  const newPassword = 'Harbour-violet-62-thimble';
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it.each([390, 1280])(
    'at %i px: asks for a link, sets the new password, signs in with it; the used link says so at once',
    async (width) => {
      const { context, page } = await h.newPage({ viewport: { width, height: 900 }, bypassCSP: true });
      const who = { ...person, username: `${person.username}${width}`, email: `frank${width}@example.test` };
      try {
        const register = new RegisterPage(page);
        await register.open();
        await register.fill(who);
        await register.submit();
        if (await page.getByTestId('nav-signout').isVisible()) await new HomePage(page).signOut();

        const forgot = new ForgotPasswordPage(page);
        await forgot.open();
        await forgot.ask(who.email);
        await expect.poll(() => h.mailbox.to(who.email).filter((m) => /reset/i.test(m.subject)).length).toBe(1);
        const mail = h.mailbox.to(who.email).find((m) => /reset/i.test(m.subject));
        const token = /reset-password\?token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? '')?.[1];
        expect(token, mail?.text).toBeTruthy();

        const reset = new ResetPasswordPage(page);
        await reset.openLink(token!);
        expect(await reset.form.isVisible()).toBe(true);
        expect(new URL(page.url()).search).not.toContain(token!);
        expect(await axeViolations(page)).toEqual([]);
        await reset.setPassword(newPassword);

        const login = new LoginPage(page);
        await login.open();
        await login.submitPassword(who.username, newPassword);
        await new HomePage(page).waitForUser(who.username);
        await new HomePage(page).signOut();

        // The same link again: the page says it is used before asking for a password.
        await reset.openLink(token!);
        expect(await reset.deadLink.isVisible()).toBe(true);
        expect(await reset.form.count()).toBe(0);
        expect(await reset.errorMessage.innerText()).toMatch(/invalid, used or expired/);
        expect(await reset.fitsWidth()).toBe(true);
        expect(await axeViolations(page)).toEqual([]);
        await h.screenshot(page, `reset-dead-link-${width}`);
      } finally {
        await context.close();
      }
    },
  );
});
