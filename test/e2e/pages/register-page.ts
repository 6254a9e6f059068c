import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

export interface Registration {
  username: string;
  email: string;
  password: string;
}

export class RegisterPage extends BasePage {
  async open(): Promise<void> {
    await this.page.goto('/app/register');
    await this.id('register-username').waitFor();
  }

  get strength(): Locator {
    return this.id('password-strength');
  }

  /** The hint under the username field ("3-50 letters, …"). */
  get usernameHint(): Locator {
    return this.page.locator('#username-hint');
  }

  /** Presses "Create account" with whatever the form holds; waits for nothing. */
  async send(): Promise<void> {
    await this.id('register-submit').click();
  }

  /** The ids an input's `aria-describedby` names (its error and hint, read out with the field). */
  async describedBy(testId: string): Promise<string[]> {
    return ((await this.id(testId).getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
  }

  async fill(details: Registration): Promise<void> {
    await this.id('register-username').fill(details.username);
    await this.id('register-email').fill(details.email);
    await this.id('register-password').fill(details.password);
    await this.id('register-password-confirm').fill(details.password);
  }

  /**
   * Submits and waits for what the app shows next (a notice, the sign-in form, the signed-in home); throws on a shown
   * error.
   */
  async submit(): Promise<void> {
    await this.id('register-submit').click();
    await this.notice.or(this.id('login-submit')).or(this.id('home-username')).or(this.errorMessage).first().waitFor();
    if (await this.errorMessage.isVisible())
      throw new Error(`registration refused: ${await this.errorMessage.innerText()}`);
  }
}
