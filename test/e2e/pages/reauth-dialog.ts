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

  async confirm(password: string, code?: string): Promise<void> {
    await this.id('reauth-password').fill(password);
    if (code !== undefined) await this.id('reauth-code').fill(code);
    await this.id('reauth-submit').click();
  }

  /** "Use a passkey" instead of the password: the browser's authenticator answers; does not wait for the outcome. */
  async usePasskey(): Promise<void> {
    await this.id('reauth-passkey').click();
  }

  async cancel(): Promise<void> {
    await this.id('reauth-cancel').click();
    await this.waitForClosed();
  }
}
