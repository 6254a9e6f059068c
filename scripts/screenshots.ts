/**
 * Screenshots of every page of the web UI at 1280 px and at 390 px (a phone), for looking the UI over after a
 * change: `npm run build --silent && npx tsx scripts/screenshots.ts [--docs]`. It runs the built server with a
 * fresh database and its own SMTP server (the e2e harness), fills it with a few people and products, and writes
 * `<page>-<width>.png` to test/e2e/artifacts/screenshots/. With `--docs` it also rewrites the screenshots that
 * docs/ shows (docs/screenshots/*.png, taken at 1280 px).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import {
  AdminPage,
  HomePage,
  LoginPage,
  ProductsPage,
  RegisterPage,
  SecurityPage,
  TokenPage,
} from '../test/e2e/pages/index.js';
import { Authenticator } from '../test/e2e/support/authenticator.js';
import { startHarness, type Harness } from '../test/e2e/support/harness.js';
import { shootOidc, shootPasskeySteps, shootPasskeys, shootRequiredSetup } from './screenshots/own-servers.js';
import { OUT, admin, person, post, signIn, viewportOf, waitForMail } from './screenshots/support.js';

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
  'admin-oidc': 'admin-oidc',
};
const WIDTHS = [1280, 390];

/** With email codes, one per width (the server lets a code be sent again only after a while). */
const emailed = (width: number): { username: string; email: string; password: string } => ({
  username: `erin${width}`,
  email: `erin${width}@example.test`,
  password: 'Thistle-quarry-84-beacon',
});
const PRODUCTS = [
  ['Brass compass', 'Pocket size, with a hinged lid and a luminous dial', '24.5', '3'],
  ['Field notebook', 'Squared paper, 96 pages', '7', '12'],
  ['Folding ruler', 'Beech wood, two metres', '12.9', '5'],
] as const;

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

async function shoot(h: Harness, width: number): Promise<void> {
  const viewport = viewportOf(width);
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
  // The questions asked in a row before a destructive action: deleting a client, deleting a person.
  await a.getByTestId('oidc-delete').first().click();
  await a.getByTestId('oidc-question').waitFor();
  await a.getByTestId('oidc-clients').screenshot({ path: path.join(OUT, `admin-oidc-question-${width}.png`) });
  await a.getByRole('button', { name: 'Cancel' }).click();
  await adminPage.userRow(person.username).getByTestId('admin-delete').click();
  await a.getByTestId('admin-question').waitFor();
  await snap(a, 'admin-question');
  await a.getByTestId('admin-cancel').click();
  await adminSide.context.close();
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
