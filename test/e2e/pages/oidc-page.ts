import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';
import { LoginPage } from './login-page.js';

/**
 * The OpenID Connect sign-in step (`/app/oidc/<uid>`): the application's name, then the sign-in form (the sign-in
 * page's own fields, LoginPage) or the consent section. Test ids from the sign-in page contract (docs/oidc.md).
 */
export class OidcPage extends BasePage {
  get root(): Locator {
    return this.id('oidc-page');
  }

  get clientName(): Locator {
    return this.id('oidc-client-name');
  }

  get error(): Locator {
    return this.id('oidc-error');
  }

  get consent(): Locator {
    return this.id('oidc-consent');
  }

  get scopes(): Locator {
    return this.id('oidc-scope');
  }

  get signedInAs(): Locator {
    return this.id('oidc-signed-in-as');
  }

  /**
   * The sign-in step's form (the sign-in page's own fields): password, then the authenticator app's code when the
   * account has one. Does not wait for the outcome.
   */
  async signIn(username: string, password: string, code?: () => Promise<string>): Promise<void> {
    const login = new LoginPage(this.page);
    if (!code) return login.submitPassword(username, password);
    await login.signInToSecondStep(username, password);
    await login.submitCode(await code());
  }

  /** "Cancel" on the sign-in step: the application is told the person declined. */
  async cancel(): Promise<void> {
    await this.id('oidc-cancel').click();
  }

  async allow(): Promise<void> {
    await this.id('oidc-allow').click();
  }

  async deny(): Promise<void> {
    await this.id('oidc-deny').click();
  }
}
