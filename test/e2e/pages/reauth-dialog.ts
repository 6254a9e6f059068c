import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

/** "Confirm it's you" (web/src/components/ReauthDialog.vue): shown over any page on 403 `reauth_required`. */
export class ReauthDialog extends BasePage {
  get dialog(): Locator {
    return this.page.getByRole('dialog', { name: "Confirm it's you" });
  }

  get dialogError(): Locator {
    return this.dialog.getByTestId('error-message');
  }

  async waitForOpen(): Promise<void> {
    await this.dialog.waitFor();
  }

  async waitForClosed(): Promise<void> {
    await this.dialog.waitFor({ state: 'hidden' });
  }

  /** The data-testid of the element that has the keyboard focus. */
  focused(): Promise<string | null | undefined> {
    // Runs in the browser; the test code is compiled without the DOM types.
    return this.page.evaluate(() =>
      (
        globalThis as unknown as { document: { activeElement: { getAttribute(name: string): string | null } | null } }
      ).document.activeElement?.getAttribute('data-testid'),
    );
  }

  async confirm(password: string, code?: string): Promise<void> {
    await this.id('reauth-password').fill(password);
    if (code !== undefined) await this.id('reauth-code').fill(code);
    await this.id('reauth-submit').click();
  }

  async cancel(): Promise<void> {
    await this.id('reauth-cancel').click();
    await this.waitForClosed();
  }
}
