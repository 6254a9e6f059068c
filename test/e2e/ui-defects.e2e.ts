import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeFrom, type ReceivedMail } from '../support/mailbox.js';
import {
  ApiDocsPage,
  ForgotPasswordPage,
  HomePage,
  LoginPage,
  RegisterPage,
  ResetPasswordPage,
  SecurityPage,
  VerifyCodePage,
  VerifyEmailPage,
} from './pages/index.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * Defects people found in the web UI's forms, mails and pages, each with the browser step that catches it, at
 * 390 px (a phone) and 1280 px. The signed-in pages' defects are in ui-defects-signed-in.e2e.ts; the reset page that
 * says a used link is dead before asking for a password is password-reset.e2e.ts.
 */
const WIDTHS = [390, 1280] as const;
const viewport = (width: number) => ({ width, height: width < 600 ? 844 : 900 });
const PASSWORD = 'Lantern-quarry-58-thistle';
const person = (name: string, width: number) => ({
  username: `${name}${width}`,
  email: `${name}${width}@example.test`,
  password: PASSWORD,
});

/** Registers in the browser, then signs in with the password (the account has no second factor). */
async function registerAndSignIn(page: Page, who: ReturnType<typeof person>): Promise<HomePage> {
  const register = new RegisterPage(page);
  await register.open();
  await register.fill(who);
  await register.submit();
  const home = new HomePage(page);
  if (await page.getByTestId('nav-signout').isVisible()) await home.signOut();
  const login = new LoginPage(page);
  await login.open();
  await login.submitPassword(who.username, who.password);
  await home.waitForUser(who.username);
  return home;
}

describe('web-UI defects in forms, mails and pages', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  /** The mailed link, opened on this server (the test server's PUBLIC_URL has no port), and its token. */
  const mailedLink = (mail: ReceivedMail, path: string): { url: string; token: string } => {
    const link = new RegExp(`https?://\\S+${path}\\?token=([A-Za-z0-9_-]+)`).exec(mail.text ?? '');
    expect(link, mail.text).not.toBeNull();
    const url = new URL(link![0]);
    return { url: `${h.baseUrl}${url.pathname}${url.search}`, token: link![1]! };
  };

  /** A one-time link mail offers the link and nothing to type: its token is in the link, once, and nowhere else. */
  const expectLinkOnly = (mail: ReceivedMail, token: string): void => {
    for (const body of [mail.text ?? '', mail.html ?? '']) {
      expect(body).not.toMatch(/enter this code|\bcode\b/i);
      expect(body.split(token).length - 1, body).toBe(1);
    }
  };

  for (const width of WIDTHS) {
    it(`at ${width} px: an empty registration form says what each field needs in plain words, the hint beside the error`, async () => {
      const { context, page } = await h.newPage({ viewport: viewport(width) });
      try {
        const register = new RegisterPage(page);
        await register.open();
        await register.send();
        await register.fieldError('username').waitFor();
        expect(await register.fieldError('username').innerText()).toBe('Use at least 3 characters.');
        expect(await register.fieldError('password').innerText()).toBe('Password is required.');
        // Not the schema's words ("must NOT have fewer than 3 characters").
        expect(await page.locator('main').innerText()).not.toMatch(/must NOT|fewer than/);
        // The hint (what is right) stays under the error (what is wrong), and both are read out with the field.
        expect(await register.usernameHint.innerText()).toBe('3-50 letters, digits, _ . or -');
        expect(await register.usernameHint.isVisible()).toBe(true);
        expect(await register.describedBy('register-username')).toEqual(['username-error', 'username-hint']);
        // The password's own hint says what a good one is, in one voice with its error.
        expect(await register.strength.innerText()).toMatch(/^Use at least 8 characters/);
        expect(await register.fitsWidth()).toBe(true);
        await h.screenshot(page, `defect-register-empty-${width}`);
      } finally {
        await context.close();
      }
    });

    it(`at ${width} px: Change password says a wrong current password beside that field, and has a confirmation and a meter`, async () => {
      const { context, page } = await h.newPage({ viewport: viewport(width) });
      const who = person('hana', width);
      try {
        await registerAndSignIn(page, who);
        const security = new SecurityPage(page);
        await security.open();
        // The same new-password fields as Register and Reset: a confirmation and a strength meter.
        expect(await security.newPasswordConfirm.isVisible()).toBe(true);
        await security.changePasswordConfirming(who.password, 'Orchard-velvet-36-copper', 'Orchard-velvet-36-coppe');
        expect(await security.newPasswordStrength.innerText()).toMatch(/\w/);
        expect(await security.newPasswordStrength.isVisible()).toBe(true);
        expect(await security.fieldError('password-confirm').innerText()).toMatch(/do not match/);

        await security.changePassword('Not-my-password-at-all-1', 'Orchard-velvet-36-copper');
        await security.errorMessage.waitFor();
        expect(await page.locator('main').innerText()).not.toContain('The username, email or password is incorrect.');
        expect(await security.fieldError('current_password').innerText()).toBe('This is not your current password.');
        expect(await security.fitsWidth()).toBe(true);
        await h.screenshot(page, `defect-change-password-wrong-${width}`);

        await security.changePassword(who.password, 'Orchard-velvet-36-copper');
        await security.notice.filter({ hasText: 'Your password has been changed.' }).waitFor();
      } finally {
        await context.close();
      }
    });

    it(`at ${width} px: the verification and reset mails give a link that works, and no code that no page would take`, async () => {
      const { context, page } = await h.newPage({ viewport: viewport(width) });
      const who = person('ivan', width);
      const mail = (subject: RegExp) => h.mailbox.to(who.email).find((m) => subject.test(m.subject));
      try {
        const home = await registerAndSignIn(page, who);
        await expect.poll(() => mail(/^Confirm your email address/)).toBeDefined();
        const confirmation = mailedLink(mail(/^Confirm your email address/)!, '/app/verify-email');
        expectLinkOnly(mail(/^Confirm your email address/)!, confirmation.token);
        const verify = new VerifyEmailPage(page);
        await verify.openLink(confirmation.url);
        expect(await verify.result.innerText()).toBe('Your email address is verified. Thank you!');
        await home.open();
        expect(await home.emailVerified.innerText()).toBe('Yes');
        await home.signOut();

        const forgot = new ForgotPasswordPage(page);
        await forgot.open();
        await forgot.ask(who.email);
        await expect.poll(() => mail(/^Reset your/)).toBeDefined();
        const reset = mailedLink(mail(/^Reset your/)!, '/app/reset-password');
        expectLinkOnly(mail(/^Reset your/)!, reset.token);
        const resetPage = new ResetPasswordPage(page);
        await resetPage.openLink(reset.token);
        await resetPage.setPassword('Meadow-copper-91-lantern');
        expect(await resetPage.notice.isVisible()).toBe(true);
      } finally {
        await context.close();
      }
    });

    it(`at ${width} px: proving the address with a mailed code on /app/verify shows "Email verified: Yes"`, async () => {
      const { context, page } = await h.newPage({ viewport: viewport(width) });
      const who = person('jude', width);
      const proofMails = () => h.mailbox.to(who.email).filter((m) => /code to confirm this address$/.test(m.subject));
      try {
        const home = await registerAndSignIn(page, who);
        expect(await home.emailVerified.innerText()).toBe('No');
        const verify = new VerifyCodePage(page);
        await verify.open();
        await verify.sendCode(who.email);
        await expect.poll(() => proofMails().length, { timeout: 15_000 }).toBe(1);
        await verify.submitCode(codeFrom(proofMails()[0]!));
        await verify.done.waitFor();
        await home.open();
        await expect.poll(() => home.emailVerified.innerText()).toBe('Yes');
        // Again after a reload: the server keeps it, not only this page's memory.
        await page.reload();
        await home.waitForUser(who.username);
        expect(await home.emailVerified.innerText()).toBe('Yes');
      } finally {
        await context.close();
      }
    });

    it(`at ${width} px: /docs is titled Twofold API and the browser logs no Content-Security-Policy error`, async () => {
      const { context, page } = await h.newPage({ viewport: viewport(width) });
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
      });
      const errorsBefore = h.consoleErrors.length;
      try {
        const docs = new ApiDocsPage(page);
        await docs.open();
        expect(await page.title()).toBe('Twofold API');
        expect(await docs.heading.isVisible()).toBe(true);
        expect(violations).toEqual([]);
        expect(h.consoleErrors.slice(errorsBefore)).toEqual([]);
        await h.screenshot(page, `defect-docs-${width}`, { viewport: true });
      } finally {
        await context.close();
      }
    });
  }
});

/**
 * `npm start` as a person at a terminal reads it (development, no SMTP_URL: mail is written to the log). The first
 * line says where the web UI is; each request is one readable line, so the mailed code stands out between them.
 */
describe('what npm start writes while a person uses the web UI', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { SMTP_URL: '' } });
  });
  afterAll(async () => h?.close());

  it('says where the web UI is first, writes one line per request, and the code a person types is easy to find', async () => {
    const [first] = h.output().split('\n');
    const webUi = /INFO: Web UI: (http:\/\/\S+\/app\/)$/.exec(first ?? '')?.[1];
    expect(webUi, h.output()).toBeDefined();

    for (const width of WIDTHS) {
      const { context, page } = await h.newPage({ viewport: viewport(width) });
      try {
        // The address on the first line is the web UI (the sign-in page, for a person signed out).
        await page.goto(webUi!);
        await page.getByTestId('login-username').waitFor();
        const who = person('kira', width);
        await registerAndSignIn(page, who);
        const security = new SecurityPage(page);
        await security.open();
        const before = h.output().length;
        await security.enableEmail();
        // The code, read off the terminal as a person would: the mail's subject line names it.
        const mailed = () => /(\d{6}) is your \S+ verification code/.exec(h.output().slice(before))?.[1];
        await expect.poll(mailed, { timeout: 15_000 }).toBeDefined();
        await security.verifyEmail(mailed()!);
        await security.shownBackupCodes();
      } finally {
        await context.close();
      }
    }

    const lines = h.output().split('\n');
    // Readable lines, not JSON; no "incoming request" line before each answer's own.
    expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
    expect(h.output()).not.toContain('incoming request');
    // The mailed code on a line of its own, as the mail says it.
    expect(h.output()).toMatch(/^Your Twofold verification code to turn on email codes is: \d{6}$/m);
    // One line per request, with its method, path, status and time.
    expect(lines.filter((line) => / POST \/api\/auth\/2fa\/email\/enable /.test(line))).toHaveLength(2);
    expect(lines.filter((line) => / POST \/api\/auth\/register /.test(line))).toEqual([
      expect.stringMatching(/INFO: POST \/api\/auth\/register 201 [\d.]+ ms$/),
      expect.stringMatching(/INFO: POST \/api\/auth\/register 201 [\d.]+ ms$/),
    ]);
  });
});
