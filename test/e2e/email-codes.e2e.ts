import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeFrom } from '../support/mailbox.js';
import { otherCode } from '../support/two-factor.js';
import { HomePage, LoginPage, RegisterPage, VerifyCodePage } from './pages/index.js';
import { startHarness, type Harness } from './support/harness.js';

/** Stand-alone email codes in the browser: `/app/verify` proves an address; an account's becomes verified. */
describe('a person confirms an email address with a mailed code', () => {
  const person = { username: 'carol', email: 'carol@example.test', password: 'Willow-granite-73-beacon' };
  const proofMails = (address: string) =>
    h.mailbox.to(address).filter((mail) => /code to confirm this address$/.test(mail.subject));
  let h: Harness;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    h = await startHarness();
    ({ context, page } = await h.newPage());
  });
  afterAll(async () => {
    await context?.close();
    await h?.close();
  });

  it('asks for a code, types a wrong one and then the right one, and the account shows the address verified', async () => {
    const register = new RegisterPage(page);
    await register.open();
    await register.fill(person);
    await register.submit();
    const home = new HomePage(page);
    if (await page.getByTestId('nav-signout').isVisible()) await home.signOut();
    await new LoginPage(page).open();
    await new LoginPage(page).submitPassword(person.username, person.password);
    await home.waitForUser(person.username);
    expect(await home.emailVerified.innerText()).toBe('No');

    const verify = new VerifyCodePage(page);
    await verify.open();
    await verify.sendCode(person.email);
    expect(await verify.notice.innerText()).toBe(
      'If this address can receive codes, one is on its way; it is valid for 10 minutes.',
    );
    // The focus moves to the code field, ready for typing.
    expect(await verify.focused()).toBe('proof-code');
    await expect.poll(() => proofMails(person.email).length, { timeout: 15_000 }).toBe(1);
    const code = codeFrom(proofMails(person.email)[0]!);

    await verify.submitCode(otherCode(code));
    await verify.errorMessage.waitFor();
    expect(await verify.errorMessage.innerText()).toMatch(/incorrect, has expired or was already used/);
    await h.screenshot(page, 'verify-code-wrong');

    await page.setViewportSize({ width: 390, height: 844 });
    await verify.submitCode(code);
    await verify.done.waitFor();
    expect(await verify.done.innerText()).toBe(`This address is verified: ${person.email}.`);
    expect(await verify.fitsWidth()).toBe(true);
    await h.screenshot(page, 'verify-code-390');

    await home.open();
    await expect.poll(() => home.emailVerified.innerText()).toBe('Yes');
  });
});
