import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, uniqueName } from '../support/app.js';
import { codeFrom } from '../support/mailbox.js';
import { LoginPage, RegisterPage, TokenPage, VerifyCodePage } from './pages/index.js';
import { Authenticator, decodeQr } from './support/authenticator.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * One black-box test per original app, written from the requests its README documents and nothing
 * else, against the server as `npm start` runs it: its users must switch without changing anything.
 */

describe('the original apps, as their users drive them', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  async function post(
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${h.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('the FastAPI 2FA app: register, login, 2fa/setup, verify-setup {token}, login, 2fa/login {login_token, otp}, /api/user/me', async () => {
    const username = uniqueName('fastapi');
    // Public: `{ "username": "...", "password": "..." }`.
    expect((await post('/api/auth/register', { username, password: PASSWORD })).status).toBe(201);
    const first = await post('/api/auth/login', { username, password: PASSWORD });
    expect(first.status).toBe(200);
    expect(first.body['2fa_required']).toBe(false);
    const bearer = { authorization: `Bearer ${String(first.body.access_token)}` };

    // 2FA setup: the otpauth URL and its QR code; a real authenticator (oathtool) reads the secret from the QR.
    const setup = await post('/api/auth/2fa/setup', {}, bearer);
    expect(setup.status).toBe(200);
    const fromQr = await decodeQr(String(setup.body.qr_base64));
    expect(fromQr).toBe(setup.body.otpauth_url);
    const secret = new URL(fromQr).searchParams.get('secret') ?? '';
    const authenticator = new Authenticator(secret);
    const enabled = await post('/api/auth/2fa/verify-setup', { token: await authenticator.nextCode() }, bearer);
    expect(enabled.status).toBe(200);
    expect(enabled.body.enabled).toBe(true);

    // The 2FA login flow: step 1 answers `2fa_required: true` and a `login_token`; step 2 finishes.
    const step1 = await post('/api/auth/login', { username, password: PASSWORD });
    expect(step1.body['2fa_required']).toBe(true);
    expect(step1.body.login_token).toEqual(expect.any(String));
    const step2 = await post('/api/auth/2fa/login', {
      login_token: step1.body.login_token,
      otp: await authenticator.nextCode(),
    });
    expect(step2.status).toBe(200);
    const me = await fetch(`${h.baseUrl}/api/user/me`, {
      headers: { authorization: `Bearer ${String(step2.body.access_token)}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ username, mfa_enabled: true });
  });

  it('the Flask 2FA example with HTML pages: /register, /login, /token_input and /token open in a browser', async () => {
    const { page, context } = await h.newPage();
    const username = uniqueName('html');

    // "Navigate to the registration page: http://127.0.0.1:5000/register. Enter a username and password."
    await page.goto('/register');
    expect(new URL(page.url()).pathname).toBe('/app/register');
    const register = new RegisterPage(page);
    await register.fill({ username, email: `${username}@example.test`, password: PASSWORD });
    await register.submit();

    // "Navigate to the login page: http://127.0.0.1:5000/login. Enter your username and password."
    // (Signed in by the registration already, the sign-in page sends the person on to the account page.)
    await page.goto('/login');
    await page.getByTestId('login-username').or(page.getByTestId('home-username')).first().waitFor();
    if (await page.getByTestId('login-username').isVisible()) {
      expect(new URL(page.url()).pathname).toBe('/app/login');
      await new LoginPage(page).submitPassword(username, PASSWORD);
    }
    await page.getByTestId('home-username').filter({ hasText: username }).waitFor();

    // "You will receive a JWT token, which you can validate at http://127.0.0.1:5000/token_input."
    const token = await post('/login', { username, password: PASSWORD });
    await page.goto('/token_input');
    expect(new URL(page.url()).pathname).toBe('/app/token');
    const inspector = new TokenPage(page);
    await inspector.inspect(String(token.body.access_token), 'Valid');
    await page.goto('/token');
    expect(new URL(page.url()).pathname).toBe('/app/token');
    await page.getByTestId('token-input').waitFor();
    await h.screenshot(page, 'original-html-token');
    await context.close();
    expect(h.consoleErrors).toEqual([]);
  });

  it('the simple email 2FA app: POST /generate-2fa mails a 6-digit code, /verify checks it, and the /verify page takes one', async () => {
    // Its users are Twofold accounts with an address (imported, or registered as here).
    const username = uniqueName('mail');
    const email = `${username}@example.test`;
    expect((await post('/api/auth/register', { username, password: PASSWORD, email })).status).toBe(201);
    const codes = async (count: number): Promise<string> => {
      const mails = () => h.mailbox.to(email).filter((mail) => / code to confirm this address$/.test(mail.subject));
      await expect.poll(() => mails().length, { timeout: 15_000 }).toBe(count);
      const code = codeFrom(mails()[count - 1]!);
      expect(code).toMatch(/^\d{6}$/);
      return code;
    };

    // "Send a POST request to /generate-2fa with the user's email. A 6-digit code will be sent."
    expect((await post('/generate-2fa', { email })).status).toBe(202);
    const first = await codes(1);
    expect(await post('/verify', { email, code: first })).toEqual({ status: 200, body: { verified: true } });
    // Single use: the same code again fails, in the contract's format.
    expect(await post('/verify', { email, code: first })).toEqual({
      status: 401,
      body: { error: 'invalid_mfa_code', message: expect.any(String) },
    });

    // "The user can then go to the /verify page and enter the code."
    expect((await post('/generate-2fa', { email })).status).toBe(202);
    const second = await codes(2);
    const { page, context } = await h.newPage();
    await page.goto('/verify');
    expect(new URL(page.url()).pathname).toBe('/app/verify');
    const verify = new VerifyCodePage(page);
    await page.getByTestId('proof-email').fill(email);
    await verify.submitCode(second);
    await verify.done.waitFor();
    expect(await verify.done.innerText()).toBe(`This address is verified: ${email}.`);
    await h.screenshot(page, 'original-email-verify');
    await context.close();
    expect(h.consoleErrors).toEqual([]);
  });
});
