import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

export class SecurityPage extends BasePage {
  async open(): Promise<void> {
    await this.navigate('nav-security');
    await this.mfaStatus.waitFor();
  }

  /** Fills Change password (the new one twice) and sends it. */
  async changePassword(current: string, next: string): Promise<void> {
    await this.id('password-current').fill(current);
    await this.id('password-new').fill(next);
    await this.id('password-new-confirm').fill(next);
    await this.id('password-change').click();
  }

  /** Fills Change password with a confirmation of its own (it may differ) and sends it; waits for nothing. */
  async changePasswordConfirming(current: string, next: string, confirmation: string): Promise<void> {
    await this.id('password-current').fill(current);
    await this.id('password-new').fill(next);
    await this.id('password-new-confirm').fill(confirmation);
    await this.id('password-change').click();
  }

  /** Change password's parts: the new password's confirmation and its strength meter. */
  get newPasswordConfirm(): Locator {
    return this.id('password-new-confirm');
  }

  get newPasswordStrength(): Locator {
    return this.page.getByTestId('password-strength');
  }

  get mfaStatus(): Locator {
    return this.id('mfa-status');
  }

  get qrImage(): Locator {
    return this.id('totp-qr');
  }

  get sessionRows(): Locator {
    return this.id('session-row');
  }

  get backupCodes(): Locator {
    return this.id('backup-codes');
  }

  /** Starts the authenticator setup; returns the QR image's `src` and the secret shown for manual entry. */
  async startTotp(): Promise<{ qrSrc: string; secret: string }> {
    await this.id('totp-start').click();
    await this.qrImage.waitFor();
    await this.id('totp-secret').waitFor();
    // The image must be loaded, not just in the DOM, for a screenshot to show it.
    await this.qrImage.evaluate((img) => (img as unknown as { decode(): Promise<void> }).decode());
    const qrSrc = await this.qrImage.getAttribute('src');
    if (!qrSrc) throw new Error('the totp-qr image has no src');
    return { qrSrc, secret: (await this.id('totp-secret').innerText()).trim() };
  }

  /** Types the first authenticator code and waits for the backup codes it yields. */
  async verifyTotp(code: string): Promise<string[]> {
    await this.id('totp-code').fill(code);
    await this.id('totp-verify').click();
    return this.shownBackupCodes();
  }

  async shownBackupCodes(): Promise<string[]> {
    await this.backupCodes.waitFor();
    const codes = this.backupCodes.getByTestId('backup-code');
    await codes.first().waitFor();
    return (await codes.allInnerTexts()).map((code) => code.trim());
  }

  /** The rows of "Your authenticator apps". */
  get authenticatorRows(): Locator {
    return this.id('authenticator-row');
  }

  /** The names the list shows, in order. */
  async authenticatorNames(): Promise<string[]> {
    return (await this.id('authenticator-name').allInnerTexts()).map((name) => name.trim());
  }

  /** Names the app being set up (the optional field beside the code). */
  async nameTotp(name: string): Promise<void> {
    await this.id('totp-name').fill(name);
  }

  /** Types the code of another app (TOTP already on: no new backup codes) and waits for the confirmation. */
  async verifyAnotherTotp(code: string): Promise<void> {
    await this.id('totp-code').fill(code);
    await this.id('totp-verify').click();
    await this.notice.filter({ hasText: 'added' }).waitFor();
  }

  /** "Rename" on the app named `name`: its name becomes a field, which takes the focus. */
  async startRenameAuthenticator(name: string): Promise<Locator> {
    await this.page.getByRole('button', { name: `Rename “${name}”` }).click();
    const field = this.id('authenticator-name-input');
    await field.waitFor();
    return field;
  }

  /** Types the new name in the open rename field and saves it; waits for the confirmation. */
  async saveAuthenticatorName(next: string): Promise<void> {
    await this.id('authenticator-name-input').fill(next);
    await this.id('authenticator-save').click();
    await this.notice.filter({ hasText: 'Renamed' }).waitFor();
  }

  /** "Remove" on the app named `name`: the question that names it appears. */
  async askRemoveAuthenticator(name: string): Promise<Locator> {
    await this.page.getByRole('button', { name: `Remove “${name}”` }).click();
    const question = this.id('authenticator-question');
    await question.waitFor();
    return question;
  }

  async cancelRemoveAuthenticator(): Promise<void> {
    await this.id('authenticator-cancel-remove').click();
    await this.id('authenticator-question').waitFor({ state: 'detached' });
  }

  async confirmRemoveAuthenticator(): Promise<void> {
    await this.id('authenticator-confirm-remove').click();
    await this.notice.filter({ hasText: 'removed' }).waitFor();
  }

  /** "Turn on email codes": the server mails a code; the field for it appears. */
  async enableEmail(): Promise<void> {
    await this.id('email-enable').click();
    await this.id('email-code').waitFor();
  }

  async verifyEmail(code: string): Promise<void> {
    await this.id('email-code').fill(code);
    await this.id('email-verify').click();
  }

  /** The Email address section's line with the account's address (or "None"). */
  get currentEmail(): Locator {
    return this.id('email-current');
  }

  get pendingEmail(): Locator {
    return this.id('email-pending');
  }

  /** "Add an email address" / "Change email address": types the address and sends it (a reauth dialog may follow). */
  async requestEmailChange(email: string): Promise<void> {
    await this.id('email-new').fill(email);
    await this.id('email-change').click();
  }

  async resendVerification(): Promise<void> {
    await this.id('email-resend').click();
  }

  /** "Download my data"; resolves with the saved file's name and its parsed JSON. */
  async downloadData(): Promise<{ fileName: string; data: Record<string, unknown> }> {
    const [download] = await Promise.all([this.page.waitForEvent('download'), this.id('data-download').click()]);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return {
      fileName: download.suggestedFilename(),
      data: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
    };
  }

  get deleteButton(): Locator {
    return this.id('delete-account');
  }

  /** Types the confirmation of "Delete account" (the button stays disabled until it is the username). */
  async typeDeleteConfirmation(text: string): Promise<void> {
    await this.id('delete-confirm').fill(text);
  }
}
