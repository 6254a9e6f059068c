import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

/** The Security page's "Passkeys" section, and "Sign in with a passkey" on the sign-in page. */
export class PasskeysSection extends BasePage {
  get rows(): Locator {
    return this.id('passkey-row');
  }

  /** The names the list shows, in order. */
  async names(): Promise<string[]> {
    return (await this.id('passkey-name-text').allInnerTexts()).map((name) => name.trim());
  }

  /** "Add a passkey" named `name`: the browser's authenticator answers; waits for the confirmation. */
  async add(name: string): Promise<void> {
    await this.id('passkey-name').fill(name);
    await this.id('passkey-add-submit').click();
    await this.notice.filter({ hasText: `Passkey “${name}” added.` }).waitFor();
  }

  /** "Remove" on the passkey named `name`: the question that names it appears. */
  async askRemove(name: string): Promise<Locator> {
    await this.page.getByRole('button', { name: `Remove “${name}”` }).click();
    const question = this.id('passkey-question');
    await question.waitFor();
    return question;
  }

  async confirmRemove(name: string): Promise<void> {
    await this.id('passkey-confirm-remove').click();
    await this.notice.filter({ hasText: `Passkey “${name}” removed.` }).waitFor();
  }

  /** On the sign-in page: "Sign in with a passkey"; waits for nothing. */
  async signIn(): Promise<void> {
    await this.id('passkey-sign-in').click();
  }
}
