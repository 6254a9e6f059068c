import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

/** Forgot password: asks for a reset link by address. */
export class ForgotPasswordPage extends BasePage {
  async open(): Promise<void> {
    await this.page.goto('/app/forgot-password');
    await this.id('forgot-email').waitFor();
  }

  async ask(email: string): Promise<void> {
    await this.id('forgot-email').fill(email);
    await this.id('forgot-submit').click();
    await this.notice.waitFor();
  }
}

/** The page a mailed reset link opens: it checks the link, then asks for the new password twice. */
export class ResetPasswordPage extends BasePage {
  /** Opens the link's page; waits until the link was checked (the form, or the dead-link message). */
  async openLink(token: string): Promise<void> {
    await this.page.goto(`/app/reset-password?token=${encodeURIComponent(token)}`);
    await this.id('reset-password').or(this.deadLink).waitFor();
  }

  get form(): Locator {
    return this.id('reset-password');
  }

  get deadLink(): Locator {
    return this.id('reset-link-invalid');
  }

  async setPassword(password: string): Promise<void> {
    await this.id('reset-password').fill(password);
    await this.id('reset-password-confirm').fill(password);
    await this.id('reset-submit').click();
    await this.notice.waitFor();
  }
}
