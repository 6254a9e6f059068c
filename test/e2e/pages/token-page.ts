import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

export class TokenPage extends BasePage {
  async open(): Promise<void> {
    await this.navigate('nav-token');
    await this.id('token-input').waitFor();
  }

  get result(): Locator {
    return this.id('token-result');
  }

  get reason(): Locator {
    return this.id('token-reason');
  }

  /** The time claims (iat, exp, …) as dates: a `dt` naming the claim, a `dd` with the date. */
  get times(): Locator {
    return this.id('token-times');
  }

  get claims(): Locator {
    return this.id('token-claims');
  }

  /** "Use my current token", then inspects it; waits for its claims. */
  async inspectMine(): Promise<void> {
    await this.id('token-use-mine').click();
    await this.id('token-inspect').click();
    await this.claims.waitFor();
  }

  /** Pastes `token`, inspects it and waits until the verdict `expected` ("Valid" / "Invalid") shows. */
  async inspect(token: string, expected: 'Valid' | 'Invalid'): Promise<void> {
    await this.id('token-input').fill(token);
    await this.id('token-inspect').click();
    await this.result.filter({ hasText: new RegExp(`^\\s*${expected}\\b`) }).waitFor();
  }
}
