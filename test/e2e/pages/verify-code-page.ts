import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

/** `/app/verify`: prove an address with a mailed code (stand-alone email codes). */
export class VerifyCodePage extends BasePage {
  async open(): Promise<void> {
    await this.page.goto('/app/verify');
    await this.id('proof-email').waitFor();
  }

  get code(): Locator {
    return this.id('proof-code');
  }

  get done(): Locator {
    return this.id('proof-done');
  }

  /** Asks for a code for `address` and waits for the page to say one may be on its way. */
  async sendCode(address: string): Promise<void> {
    await this.id('proof-email').fill(address);
    await this.id('proof-send').click();
    await this.notice.waitFor();
  }

  async submitCode(code: string): Promise<void> {
    await this.code.fill(code);
    await this.id('proof-submit').click();
  }
}
