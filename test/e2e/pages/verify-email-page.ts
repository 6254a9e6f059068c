import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

/** `/app/verify-email?token=`: the page the mailed confirmation link opens; it checks the link at once. */
export class VerifyEmailPage extends BasePage {
  /** Opens the mailed link as it is; waits until the page has the server's answer. */
  async openLink(link: string): Promise<void> {
    await this.page.goto(link);
    await this.page.locator('[data-testid="verify-result"]:not([data-state="working"])').waitFor();
  }

  get result(): Locator {
    return this.id('verify-result');
  }
}
