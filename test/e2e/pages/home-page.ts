import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

export class HomePage extends BasePage {
  async open(): Promise<void> {
    await this.navigate('nav-home');
    await this.username.waitFor();
  }

  get username(): Locator {
    return this.id('home-username');
  }

  get role(): Locator {
    return this.id('home-role');
  }

  get emailVerified(): Locator {
    return this.id('home-email-verified');
  }

  get mfaStatus(): Locator {
    return this.id('home-mfa-status');
  }

  /** Waits until the home page shows `username` as the signed-in person. */
  async waitForUser(username: string): Promise<void> {
    await this.page.getByTestId('home-username').filter({ hasText: username }).waitFor();
  }
}
