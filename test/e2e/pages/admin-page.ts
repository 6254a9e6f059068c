import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

export class AdminPage extends BasePage {
  async open(): Promise<void> {
    await this.navigate('nav-admin');
    await this.id('admin-search').waitFor();
  }

  get auditRows(): Locator {
    return this.id('audit-row');
  }

  userRow(username: string): Locator {
    return this.page.locator(`[data-testid="admin-user-row"][data-username="${username.replace(/["\\]/g, '\\$&')}"]`);
  }

  /** The Passkeys column of `username`'s row: how many they have. */
  passkeyCount(username: string): Locator {
    return this.userRow(username).getByTestId('admin-passkeys');
  }

  async search(text: string): Promise<void> {
    await this.id('admin-search').fill(text);
    await this.id('admin-search').press('Enter');
  }

  /** The question a row asks before an action on that person, and its answer buttons. */
  question(username: string): Locator {
    return this.userRow(username).getByTestId('admin-question');
  }

  async confirm(username: string): Promise<void> {
    await this.userRow(username).getByTestId('admin-confirm').click();
  }

  async cancel(username: string): Promise<void> {
    await this.userRow(username).getByTestId('admin-cancel').click();
  }

  /** Asks to lock `username` (nothing happens until confirmed). */
  async askLock(username: string): Promise<void> {
    await this.userRow(username).getByTestId('admin-lock').click();
    await this.question(username).waitFor();
  }

  /** Locks `username` and confirms; waits until its row offers to unlock. */
  async lock(username: string): Promise<void> {
    await this.askLock(username);
    await this.confirm(username);
    await this.userRow(username).getByTestId('admin-unlock').waitFor();
  }

  async askResetTwoFactor(username: string): Promise<void> {
    await this.userRow(username).getByTestId('admin-reset-2fa').click();
    await this.question(username).waitFor();
  }

  /** The row's role menu. */
  roleMenu(username: string): Locator {
    return this.userRow(username).getByTestId('admin-role');
  }

  /** Asks to sign `username` out everywhere (nothing happens until confirmed). */
  async askLogoutAll(username: string): Promise<void> {
    await this.userRow(username).getByTestId('admin-logout-all').click();
    await this.question(username).waitFor();
  }

  /** Asks to delete `username`'s account (nothing happens until confirmed). */
  async askDelete(username: string): Promise<void> {
    await this.userRow(username).getByTestId('admin-delete').click();
    await this.question(username).waitFor();
  }

  /** Picks a role in the row's menu (nothing is saved yet). */
  async chooseRole(username: string, role: string): Promise<void> {
    await this.userRow(username).getByTestId('admin-role').selectOption(role);
  }

  async saveRole(username: string): Promise<void> {
    await this.userRow(username).getByTestId('admin-role-save').click();
    await this.question(username).waitFor();
  }

  /** Shows only audit events of one kind. */
  async filterAudit(type: string): Promise<void> {
    await this.id('audit-filter-type').selectOption(type);
  }

  /** Unlocks `username`; waits until its row offers to lock again. */
  async unlock(username: string): Promise<void> {
    await this.userRow(username).getByTestId('admin-unlock').click();
    await this.userRow(username).getByTestId('admin-lock').waitFor();
  }
}
