import type { Locator, Page } from 'playwright-core';

/** What every page shares: the layout's navigation and the form-level messages (web/TESTIDS.md). */
export abstract class BasePage {
  constructor(readonly page: Page) {}

  protected id(testId: string): Locator {
    return this.page.getByTestId(testId);
  }

  get errorMessage(): Locator {
    return this.id('error-message');
  }

  get notice(): Locator {
    return this.id('notice');
  }

  fieldError(field: string): Locator {
    return this.id(`error-${field}`);
  }

  /** Follows a navigation link of the layout (a client-side route change, no reload). */
  protected async navigate(testId: string): Promise<void> {
    const link = this.id(testId);
    await link.waitFor();
    await link.click();
  }

  /** Signs out with the layout's button and waits until the signed-out navigation shows. */
  async signOut(): Promise<void> {
    await this.navigate('nav-signout');
    await this.id('nav-login').waitFor();
  }
}
