import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

export type MfaMethod = 'totp' | 'email' | 'backup';

export class LoginPage extends BasePage {
  async open(): Promise<void> {
    await this.page.goto('/app/login');
    await this.id('login-username').waitFor();
  }

  get mfaStep(): Locator {
    return this.id('mfa-step');
  }

  /** The "Set up two-factor authentication" step, when the server requires a factor the account lacks. */
  get setupStep(): Locator {
    return this.id('mfa-setup-step');
  }

  /** After the set-up's backup codes: "continue", signed in. */
  async continueAfterSetup(): Promise<void> {
    await this.id('mfa-setup-continue').click();
  }

  get resendCountdown(): Locator {
    return this.id('mfa-resend-countdown');
  }

  /** First step: username (or email) and password. Does not wait for the outcome. */
  async submitPassword(username: string, password: string): Promise<void> {
    await this.id('login-username').fill(username);
    await this.id('login-password').fill(password);
    await this.id('login-submit').click();
  }

  /** First step, expecting the second step to be asked for. */
  async signInToSecondStep(username: string, password: string): Promise<void> {
    await this.submitPassword(username, password);
    await this.mfaStep.waitFor();
  }

  async chooseMethod(method: MfaMethod): Promise<void> {
    await this.id(`mfa-method-${method}`).click();
  }

  /** "Send me a code" for the emailed method. */
  async sendEmailCode(): Promise<void> {
    await this.id('mfa-send-email').click();
  }

  /** Second step: "Use a passkey" (the browser's authenticator answers); does not wait for the outcome. */
  async usePasskey(): Promise<void> {
    await this.id('mfa-passkey').click();
  }

  /** Second step: types the code and submits; does not wait for the outcome. */
  async submitCode(code: string): Promise<void> {
    const field = this.id('mfa-code');
    await field.waitFor();
    await field.fill(code);
    await this.id('mfa-submit').click();
  }
}
