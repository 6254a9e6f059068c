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

  async search(text: string): Promise<void> {
    await this.id('admin-search').fill(text);
    await this.id('admin-search').press('Enter');
  }

  /** Locks `username`; waits until its row offers to unlock. */
  async lock(username: string): Promise<void> {
    await this.userRow(username).getByTestId('admin-lock').click();
    await this.userRow(username).getByTestId('admin-unlock').waitFor();
  }

  /** Unlocks `username`; waits until its row offers to lock again. */
  async unlock(username: string): Promise<void> {
    await this.userRow(username).getByTestId('admin-unlock').click();
    await this.userRow(username).getByTestId('admin-lock').waitFor();
  }
}
