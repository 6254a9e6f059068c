/**
 * Screenshots that need a server of their own (another setting, a browser authenticator, the issuer as the page
 * origin): REQUIRE_2FA's set-up step, passkeys, the passkey second step, and the OpenID Connect pages.
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { HomePage, LoginPage, PasskeysSection, ReauthDialog, SecurityPage } from '../../test/e2e/pages/index.js';
import { Authenticator } from '../../test/e2e/support/authenticator.js';
import { startHarness } from '../../test/e2e/support/harness.js';
import { addVirtualAuthenticator } from '../../test/e2e/support/virtual-authenticator.js';
import { OUT, admin, person, post, signIn, viewportOf } from './support.js';

/** REQUIRE_2FA: an administrator without a second factor is asked to set one up at sign-in (its own server). */
export async function shootRequiredSetup(width: number): Promise<void> {
  const required = await startHarness({ env: { REQUIRE_2FA: 'admin' } });
  try {
    await required.createAdmin(admin);
    const { page, context } = await required.newPage({ viewport: viewportOf(width) });
    const login = new LoginPage(page);
    await login.open();
    await login.submitPassword(admin.username, admin.password);
    await login.setupStep.waitFor();
    await page.screenshot({ path: path.join(OUT, `login-setup-${width}.png`), fullPage: true });
    await new SecurityPage(page).startTotp();
    await page.screenshot({ path: path.join(OUT, `login-setup-qr-${width}.png`), fullPage: true });
    await context.close();
  } finally {
    await required.close();
  }
}

/**
 * Passkeys (their own server: WebAuthn needs PUBLIC_URL at the pages' origin), made by Chromium's virtual
 * authenticator: the Security page listing two, the question before removing one, and the sign-in page.
 */
export async function shootPasskeys(width: number): Promise<void> {
  const keyed = await startHarness({ publicUrlIsPageOrigin: true });
  try {
    const who = { username: 'pia', email: 'pia@example.test', password: person.password };
    await post(keyed, '/api/auth/register', who);
    const { page, context } = await keyed.newPage({ viewport: viewportOf(width) });
    await addVirtualAuthenticator(page);
    await signIn(page, who);
    await new SecurityPage(page).open();
    const passkeys = new PasskeysSection(page);
    await passkeys.add('Laptop');
    await passkeys.rows.first().waitFor();
    await page.screenshot({ path: path.join(OUT, `security-passkeys-${width}.png`), fullPage: true });
    await passkeys.askRemove('Laptop');
    await page.screenshot({ path: path.join(OUT, `security-passkey-remove-${width}.png`), fullPage: true });
    await context.close();
  } finally {
    await keyed.close();
  }
}

/**
 * A passkey beside an authenticator app (their own server, REAUTH_MAX_AGE 10 s): the second step offering the
 * passkey as the alternative to the code, and "Confirm it's you" with its "Use a passkey" once the sign-in is old.
 */
export async function shootPasskeySteps(width: number): Promise<void> {
  const maxAgeSeconds = 10;
  const keyed = await startHarness({ publicUrlIsPageOrigin: true, env: { REAUTH_MAX_AGE: String(maxAgeSeconds) } });
  try {
    const who = { username: 'quinn', email: 'quinn@example.test', password: person.password };
    await post(keyed, '/api/auth/register', who);
    const { access_token: token } = await post(keyed, '/api/auth/login', {
      username: who.username,
      password: who.password,
    });
    const { secret } = await post(keyed, '/api/auth/2fa/setup', {}, String(token));
    const code = await new Authenticator(String(secret)).nextCode();
    const { backup_codes: backup } = await post(keyed, '/api/auth/2fa/verify-setup', { code }, String(token));
    const [first] = backup as string[];

    const { page, context } = await keyed.newPage({ viewport: viewportOf(width) });
    // The virtual authenticator would answer the sign-in page's autofill request at once: no autofill here.
    await context.addInitScript(() => {
      const browser = globalThis as unknown as {
        PublicKeyCredential: { isConditionalMediationAvailable?: () => Promise<boolean> };
      };
      browser.PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
    });
    await addVirtualAuthenticator(page);
    const login = new LoginPage(page);
    const home = new HomePage(page);
    const backupSignIn = async (backupCode: string): Promise<void> => {
      await login.open();
      await login.signInToSecondStep(who.username, who.password);
      await login.chooseMethod('backup');
      await login.submitCode(backupCode);
      await home.waitForUser(who.username);
    };
    await backupSignIn(String(first));
    const security = new SecurityPage(page);
    await security.open();
    const passkeys = new PasskeysSection(page);
    await passkeys.add('Laptop');

    await security.signOut();
    await login.open();
    await login.signInToSecondStep(who.username, who.password);
    await page.getByTestId('mfa-passkey').waitFor();
    await page.screenshot({ path: path.join(OUT, `login-passkey-second-step-${width}.png`), fullPage: true });
    await login.usePasskey();
    await home.waitForUser(who.username);

    await security.open();
    await page.waitForTimeout(maxAgeSeconds * 1000 + 1000);
    await passkeys.askRemove('Laptop');
    await page.getByTestId('passkey-confirm-remove').click();
    const reauth = new ReauthDialog(page);
    await reauth.waitForOpen();
    await page.screenshot({ path: path.join(OUT, `reauth-passkey-${width}.png`) });
    await reauth.cancel();
    await context.close();
  } finally {
    await keyed.close();
  }
}

/**
 * Signing in to another application through Twofold's OpenID Connect provider (its own server: the issuer is
 * PUBLIC_URL, the pages' origin): the sign-in step under the application's name, then the consent step.
 */
export async function shootOidc(width: number): Promise<void> {
  const provider = await startHarness({ publicUrlIsPageOrigin: true, env: { OIDC_SCOPES: 'reports:read' } });
  try {
    await post(provider, '/api/auth/register', person);
    const scope = 'openid profile email roles offline_access reports:read';
    const redirectUri = 'http://127.0.0.1:9/callback';
    const created = await provider.cli([
      'client',
      'create',
      '--name',
      'Grafana',
      '--redirect-uri',
      redirectUri,
      '--scope',
      scope,
      '--json',
    ]);
    if (created.code !== 0) throw new Error(`client create failed: ${created.stderr}`);
    const { client_id: clientId } = JSON.parse(created.stdout) as { client_id: string };
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: randomBytes(8).toString('hex'),
      // offline_access is granted only with a consent asked for (OpenID Connect Core 1.0 §11).
      prompt: 'consent',
    });
    const { page, context } = await provider.newPage({ viewport: viewportOf(width) });
    await page.goto(`/oidc/auth?${query}`);
    const login = new LoginPage(page);
    await page.getByTestId('oidc-client-name').waitFor();
    await page.screenshot({ path: path.join(OUT, `oidc-sign-in-${width}.png`), fullPage: true });
    await login.submitPassword(person.username, person.password);
    await page.getByTestId('oidc-consent').waitFor();
    await page.screenshot({ path: path.join(OUT, `oidc-consent-${width}.png`), fullPage: true });
    await context.close();
  } finally {
    await provider.close();
  }
}
