/**
 * Screenshots of every page of the web UI at 1280 px and at 390 px (a phone), for looking the UI over after a
 * change: `npm run build --silent && npx tsx scripts/screenshots.ts [--docs]`. It runs the built server with a
 * fresh database and its own SMTP server (the e2e harness), fills it with a few people and products, and writes
 * `<page>-<width>.png` to test/e2e/artifacts/screenshots/. With `--docs` it also rewrites the screenshots that
 * docs/ shows (docs/screenshots/*.png, taken at 1280 px).
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import {
  AdminPage,
  HomePage,
  LoginPage,
  PasskeysSection,
  ProductsPage,
  ReauthDialog,
  RegisterPage,
  SecurityPage,
  TokenPage,
} from '../test/e2e/pages/index.js';
import { Authenticator } from '../test/e2e/support/authenticator.js';
import { ARTIFACTS, startHarness, type Harness } from '../test/e2e/support/harness.js';
import { addVirtualAuthenticator } from '../test/e2e/support/virtual-authenticator.js';

const OUT = path.join(ARTIFACTS, 'screenshots');
const DOCS = path.resolve(import.meta.dirname, '../docs/screenshots');
/** docs/screenshots/<name>.png ← <page>-1280.png */
const DOCS_SHOTS: Record<string, string> = {
  admin: 'admin',
  'mfa-email': 'mfa-email',
  products: 'products',
  'security-qr': 'security-qr',
  security: 'security',
  'security-authenticators': 'security-authenticators',
  'security-email-pending': 'security-email-pending',
  'login-setup-qr': 'login-setup-qr',
  'security-passkeys': 'security-passkeys',
  'login-passkey-second-step': 'login-passkey-second-step',
  'reauth-passkey': 'reauth-passkey',
  'oidc-sign-in': 'oidc-sign-in',
  'oidc-consent': 'oidc-consent',
};
const WIDTHS = [1280, 390];

const person = { username: 'alice', email: 'alice@example.test', password: 'Lantern-orchid-57-gravel' };
/** With email codes, one per width (the server lets a code be sent again only after a while). */
const emailed = (width: number): { username: string; email: string; password: string } => ({
  username: `erin${width}`,
  email: `erin${width}@example.test`,
  password: 'Thistle-quarry-84-beacon',
});
const admin = { username: 'root', password: 'Admin-copper-kettle-93' };
const PRODUCTS = [
  ['Brass compass', 'Pocket size, with a hinged lid and a luminous dial', '24.5', '3'],
  ['Field notebook', 'Squared paper, 96 pages', '7', '12'],
  ['Folding ruler', 'Beech wood, two metres', '12.9', '5'],
] as const;

async function post(h: Harness, url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${h.baseUrl}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
}

async function waitForMail(h: Harness, address: string, count: number): Promise<string> {
  for (let tries = 0; h.mailbox.codeMails(address).length < count; tries += 1) {
    if (tries > 150) throw new Error(`no code mail for ${address}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return h.mailbox.latestCode(address);
}

async function seed(h: Harness): Promise<void> {
  await post(h, '/api/auth/register', person);
  for (const width of WIDTHS) {
    const { username, email, password } = emailed(width);
    await post(h, '/api/auth/register', { username, email, password });
    const { access_token: token } = await post(h, '/api/auth/login', { username, password });
    await post(h, '/api/auth/2fa/email/enable', {}, String(token));
    const code = await waitForMail(h, email, 1);
    await post(h, '/api/auth/2fa/email/verify-setup', { code }, String(token));
  }
  await h.createAdmin(admin);
  const { access_token: mine } = await post(h, '/api/auth/login', {
    username: person.username,
    password: person.password,
  });
  for (const [name, description, price, quantity] of PRODUCTS)
    await post(
      h,
      '/api/products',
      { name, description, price: Number(price), quantity: Number(quantity) },
      String(mine),
    );
}

async function signIn(page: Page, who: { username: string; password: string }): Promise<void> {
  const login = new LoginPage(page);
  await login.open();
  await login.submitPassword(who.username, who.password);
  await new HomePage(page).waitForUser(who.username);
}

async function shoot(h: Harness, width: number): Promise<void> {
  const viewport = { width, height: width < 600 ? 844 : 900 };
  const snap = (page: Page, name: string): Promise<Buffer> =>
    page.screenshot({ path: path.join(OUT, `${name}-${width}.png`), fullPage: true });

  const out = await h.newPage({ viewport });
  const p = out.page;
  const login = new LoginPage(p);
  await login.open();
  await snap(p, 'login');
  const register = new RegisterPage(p);
  await register.open();
  await register.fill({ username: 'dora', email: 'dora@example.test', password: 'Pebble-harbour-29' });
  // The strength hint says "Checking…" until its word lists have loaded.
  await register.strength.filter({ hasNotText: 'Checking' }).waitFor();
  await snap(p, 'register');
  for (const [name, address, ready] of [
    ['forgot-password', '/app/forgot-password', 'forgot-email'],
    ['reset-password', '/app/reset-password?token=from-the-email', 'reset-link-invalid'],
    ['verify-email', '/app/verify-email?token=from-the-email', 'verify-result'],
    ['verify-code', '/app/verify', 'proof-email'],
    ['not-found', '/app/no/such/page', 'not-found'],
  ] as const) {
    await login.visit(address, ready);
    if (name === 'verify-email') await p.locator('[data-state="failed"]').waitFor();
    await snap(p, name);
  }
  await login.open();
  const second = emailed(width);
  await login.signInToSecondStep(second.username, second.password);
  await snap(p, 'mfa-step');
  await login.chooseMethod('email');
  const before = h.mailbox.codeMails(second.email).length;
  await login.sendEmailCode();
  await login.resendCountdown.waitFor();
  await waitForMail(h, second.email, before + 1);
  await snap(p, 'mfa-email');
  await out.context.close();

  const signedIn = await h.newPage({ viewport });
  const s = signedIn.page;
  await signIn(s, person);
  await snap(s, 'home');
  // The skip link shows once the Tab key reaches it.
  await s.goto('/app/');
  await new HomePage(s).waitForUser(person.username);
  await s.keyboard.press('Tab');
  await s.screenshot({ path: path.join(OUT, `skip-link-${width}.png`) });
  const security = new SecurityPage(s);
  await security.open();
  await security.sessionRows.first().waitFor();
  await snap(s, 'security');
  await security.startTotp();
  await snap(s, 'security-qr');
  await security.requestEmailChange(`${person.username}-${width}-new@example.test`);
  await security.notice.filter({ hasText: `${person.username}-${width}-new@example.test` }).waitFor();
  await snap(s, 'security-email-pending');
  const products = new ProductsPage(s);
  await products.open();
  await products.rows.first().waitFor();
  await snap(s, 'products');
  await products.openForm('Field notebook');
  await snap(s, 'products-form');
  await products.cancelForm();
  await products.askDelete('Folding ruler');
  await snap(s, 'products-delete');
  const token = new TokenPage(s);
  await token.open();
  await token.inspectMine();
  await snap(s, 'token');
  await signedIn.context.close();

  // Two authenticator apps (a person of this width only): the list, and the question before removing one.
  const twoApps = { username: `ivy${width}`, email: `ivy${width}@example.test`, password: person.password };
  await post(h, '/api/auth/register', twoApps);
  const withApps = await h.newPage({ viewport });
  await signIn(withApps.page, twoApps);
  const appsPage = new SecurityPage(withApps.page);
  await appsPage.open();
  for (const [index, name] of ['Phone', 'Tablet'].entries()) {
    const { secret } = await appsPage.startTotp();
    await appsPage.nameTotp(name);
    const code = await new Authenticator(secret).nextCode();
    if (index === 0) await appsPage.verifyTotp(code);
    else await appsPage.verifyAnotherTotp(code);
  }
  await appsPage.authenticatorRows.nth(1).waitFor();
  await snap(withApps.page, 'security-authenticators');
  await appsPage.askRemoveAuthenticator('Phone');
  await snap(withApps.page, 'security-authenticator-remove');
  await withApps.context.close();

  const adminSide = await h.newPage({ viewport });
  const a = adminSide.page;
  await signIn(a, admin);
  const adminPage = new AdminPage(a);
  await adminPage.open();
  await adminPage.userRow(person.username).waitFor();
  await adminPage.auditRows.first().waitFor();
  await snap(a, 'admin');
  // The OpenID Connect clients: one added through the form, its secret shown once.
  await a.getByTestId('oidc-name').fill(`Team wiki ${width}`);
  await a
    .getByTestId('oidc-redirect-uris')
    .fill(`https://wiki.example.test/oauth/callback\nhttps://wiki.example.test/${width}`);
  await a.getByTestId('oidc-skip-consent').check();
  await a.getByTestId('oidc-create').click();
  await a.getByTestId('oidc-secret-value').waitFor();
  await a.getByTestId('oidc-clients').screenshot({ path: path.join(OUT, `admin-oidc-${width}.png`) });
  await adminSide.context.close();
}

/** REQUIRE_2FA: an administrator without a second factor is asked to set one up at sign-in (its own server). */
async function shootRequiredSetup(width: number): Promise<void> {
  const required = await startHarness({ env: { REQUIRE_2FA: 'admin' } });
  try {
    await required.createAdmin(admin);
    const { page, context } = await required.newPage({ viewport: { width, height: width < 600 ? 844 : 900 } });
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
async function shootPasskeys(width: number): Promise<void> {
  const keyed = await startHarness({ publicUrlIsPageOrigin: true });
  try {
    const who = { username: 'pia', email: 'pia@example.test', password: person.password };
    await post(keyed, '/api/auth/register', who);
    const { page, context } = await keyed.newPage({ viewport: { width, height: width < 600 ? 844 : 900 } });
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
async function shootPasskeySteps(width: number): Promise<void> {
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

    const { page, context } = await keyed.newPage({ viewport: { width, height: width < 600 ? 844 : 900 } });
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
async function shootOidc(width: number): Promise<void> {
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
    const { page, context } = await provider.newPage({ viewport: { width, height: width < 600 ? 844 : 900 } });
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

const h = await startHarness();
try {
  mkdirSync(OUT, { recursive: true });
  await seed(h);
  for (const width of WIDTHS) await shoot(h, width);
  for (const width of WIDTHS) await shootRequiredSetup(width);
  for (const width of WIDTHS) await shootPasskeys(width);
  for (const width of WIDTHS) await shootPasskeySteps(width);
  for (const width of WIDTHS) await shootOidc(width);
  if (process.argv.includes('--docs'))
    for (const [docName, shot] of Object.entries(DOCS_SHOTS))
      copyFileSync(path.join(OUT, `${shot}-1280.png`), path.join(DOCS, `${docName}.png`));
  console.log(`Screenshots in ${OUT}`);
} finally {
  await h.close();
}
