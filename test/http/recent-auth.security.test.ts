import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, login, register, uniqueName, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import { auditRows, bearer, claimsOf, enableEmailCodes, enableTOTP, nextStep, totpNow } from '../support/two-factor.js';

const dialects = await testDialects();

/** REAUTH_MAX_AGE's default: 300 s. */
const MAX_AGE_MS = 300_000;
const NEW_PASSWORD = 'a different long passphrase 42';

let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => mailbox?.close());

describe.each(dialects)('recent authentication on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, env: { SMTP_URL: mailbox.url } });
  });
  afterAll(async () => t?.close());

  async function signUpWithEmail(): Promise<Session & { username: string; email: string }> {
    const username = uniqueName('ra');
    const email = `${username}@example.com`;
    const created = await register(t.app, username, PASSWORD, email);
    if (created.statusCode !== 201) throw new Error(`register failed: ${created.body}`);
    return { ...(await login(t.app, username)), username, email };
  }

  const post = (
    url: string,
    accessToken: string,
    payload?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { ...bearer(accessToken), ...headers },
      ...(payload ? { payload } : {}),
    });
  const reauth = (accessToken: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    post('/api/auth/reauth', accessToken, payload, headers);
  const status = async (accessToken: string) =>
    (await t.app.inject({ method: 'GET', url: '/api/auth/2fa', headers: bearer(accessToken) })).json();
  const expectReauthRequired = (response: LightMyRequestResponse, what: string) => {
    expect(response.statusCode, what).toBe(403);
    expect(response.json(), what).toEqual({
      error: 'reauth_required',
      message: expect.stringContaining('POST /api/auth/reauth'),
    });
  };
  const nowSeconds = () => Math.floor(t.clock.now().getTime() / 1000);

  it('a stolen access token older than REAUTH_MAX_AGE cannot set up, replace or remove a second factor', async () => {
    const owner = await signUpWithEmail();
    const { secret, backupCodes } = await enableTOTP(t, owner);
    const without2fa = await signUpWithEmail();
    const statusBefore = await status(owner.accessToken);
    t.clock.advance(MAX_AGE_MS + 1000);
    const codeMails = () => mailbox.codeMails(owner.email).length + mailbox.codeMails(without2fa.email).length;
    const codeMailsBefore = codeMails();

    // Each sensitive route, with a body that would succeed on a fresh sign-in.
    const attempts: Array<[string, string, Record<string, unknown> | undefined]> = [
      ['/api/auth/2fa/setup', owner.accessToken, undefined],
      ['/api/auth/2fa/verify-setup', owner.accessToken, { code: totpNow(t, secret) }],
      ['/api/auth/2fa/email/enable', owner.accessToken, undefined],
      ['/api/auth/2fa/email/verify-setup', owner.accessToken, { code: '123456' }],
      ['/api/auth/2fa/backup-codes', owner.accessToken, { password: PASSWORD }],
      ['/api/auth/2fa/disable', owner.accessToken, { password: PASSWORD, code: totpNow(t, secret) }],
      ['/api/auth/password/change', owner.accessToken, { current_password: PASSWORD, new_password: NEW_PASSWORD }],
      // An account without 2FA: a thief's authenticator would lock the owner out of their next sign-in.
      ['/api/auth/2fa/setup', without2fa.accessToken, undefined],
      ['/api/auth/2fa/email/enable', without2fa.accessToken, undefined],
    ];
    for (const [url, token, payload] of attempts) expectReauthRequired(await post(url, token, payload), url);

    // Nothing changed: same factors, no mail, old backup codes, old TOTP secret and old password still work.
    expect(await status(owner.accessToken)).toEqual(statusBefore);
    expect(await status(without2fa.accessToken)).toEqual({
      totp_enabled: false,
      email_enabled: false,
      backup_codes_remaining: 0,
      totp_count: 0,
    });
    expect(codeMails()).toBe(codeMailsBefore);
    const oneStep = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: owner.username, password: PASSWORD, totp_code: totpNow(t, secret) },
    });
    expect(oneStep.statusCode).toBe(200);
    const challenge = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: owner.username, password: PASSWORD },
    });
    const backup = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/login',
      payload: { mfa_token: challenge.json().mfa_token, code: backupCodes[0] },
    });
    expect(backup.statusCode).toBe(200);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: without2fa.username, password: PASSWORD },
        })
      ).json(),
    ).toHaveProperty('access_token');
  });

  it('reauth with the password restores the right for REAUTH_MAX_AGE, with a fresh auth_time and amr ["pwd"]', async () => {
    const user = await signUpWithEmail();
    t.clock.advance(MAX_AGE_MS + 1000);
    expectReauthRequired(await post('/api/auth/2fa/setup', user.accessToken), 'stale');

    const answer = await reauth(user.accessToken, { password: PASSWORD });
    expect(answer.statusCode).toBe(200);
    const tokens = answer.json();
    expect(tokens).toMatchObject({ token_type: 'Bearer', user: { id: user.userId } });
    expect(answer.headers['cache-control']).toBe('no-store');
    const claims = await claimsOf(t, tokens.access_token);
    expect(claims).toMatchObject({
      auth_time: nowSeconds(),
      amr: ['pwd'],
      sid: (await claimsOf(t, user.accessToken)).sid,
    });

    expect((await post('/api/auth/2fa/setup', tokens.access_token)).statusCode).toBe(200);
    // The old access token keeps its old auth_time.
    expectReauthRequired(await post('/api/auth/2fa/setup', user.accessToken), 'old token');
    // The refresh token was rotated: the old one is spent, the new one works and keeps the new auth_time.
    const replayed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: user.refreshToken },
    });
    expect(replayed.json().error).toBe('refresh_token_invalid');
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/auth/refresh',
          payload: { refresh_token: tokens.refresh_token },
        })
      ).statusCode,
    ).toBe(200);

    t.clock.advance(MAX_AGE_MS + 1000);
    expectReauthRequired(await post('/api/auth/2fa/setup', tokens.access_token), 'stale again');
    expect(await auditRows(t, user.userId)).toContainEqual(expect.objectContaining({ type: 'reauth.succeeded' }));
  });

  it('reauth with the password and a code restores the right for REAUTH_MAX_AGE, with amr ["pwd","otp"]', async () => {
    const user = await signUpWithEmail();
    const { secret } = await enableTOTP(t, user);
    t.clock.advance(MAX_AGE_MS + 1000);

    const missing = await reauth(user.accessToken, { password: PASSWORD });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: 'validation_failed', fields: { code: expect.any(String) } });
    const wrong = await reauth(user.accessToken, {
      password: PASSWORD,
      code: String((Number(totpNow(t, secret)) + 1) % 1_000_000).padStart(6, '0'),
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('invalid_mfa_code');

    const answer = await reauth(user.accessToken, { password: PASSWORD, code: totpNow(t, secret) });
    expect(answer.statusCode).toBe(200);
    const fresh = answer.json().access_token as string;
    expect(await claimsOf(t, fresh)).toMatchObject({ auth_time: nowSeconds(), amr: ['pwd', 'otp'] });
    const regenerated = await post('/api/auth/2fa/backup-codes', fresh, { password: PASSWORD });
    expect(regenerated.statusCode).toBe(200);
    expect(regenerated.json().backup_codes).toHaveLength(10);
  });

  it('reauth accepts an emailed step-up code, asked for with only the Bearer token', async () => {
    const user = await signUpWithEmail();
    await enableEmailCodes(t, user, user.email, mailbox);
    t.clock.advance(MAX_AGE_MS + 1000);
    const sent = await post('/api/auth/2fa/email/send', user.accessToken, {});
    expect(sent.statusCode).toBe(202);
    const answer = await reauth(user.accessToken, { password: PASSWORD, code: mailbox.latestCode(user.email) });
    expect(answer.statusCode).toBe(200);
    expect(
      (
        await post('/api/auth/2fa/disable', answer.json().access_token, { password: PASSWORD, code: 'xxxxx-xxxxx' })
      ).json().error,
    ).toBe('invalid_mfa_code');
  });

  it('reauth from the web UI sets the refresh cookie like login does', async () => {
    const user = await signUpWithEmail();
    const answer = await reauth(user.accessToken, { password: PASSWORD }, { 'x-requested-with': 'twofold' });
    expect(answer.statusCode).toBe(200);
    const cookie = answer.cookies.find((c) => c.name === 'twofold_refresh');
    expect(cookie).toMatchObject({
      value: answer.json().refresh_token,
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
      path: '/api/auth',
    });
  });

  it('refresh keeps auth_time: only a password or a code makes it newer', async () => {
    const user = await signUpWithEmail();
    const signedInAt = nowSeconds();
    expect(await claimsOf(t, user.accessToken)).toMatchObject({ auth_time: signedInAt });
    t.clock.advance(200_000);
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refresh_token: user.refreshToken },
    });
    expect(refreshed.statusCode).toBe(200);
    const claims = await claimsOf(t, refreshed.json().access_token);
    expect(claims.auth_time).toBe(signedInAt);
    expect(claims.iat).toBe(nowSeconds());
    t.clock.advance(200_000);
    expectReauthRequired(await post('/api/auth/2fa/setup', refreshed.json().access_token), 'refreshed but stale');
  });

  it('reauth with a wrong password spends the lockout budget', async () => {
    const user = await signUpWithEmail();
    for (let i = 0; i < 5; i++) {
      const wrong = await reauth(user.accessToken, { password: 'not the password at all' });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error).toBe('invalid_credentials');
    }
    const locked = await reauth(user.accessToken, { password: PASSWORD });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error).toBe('too_many_attempts');
    // The same budget as sign-in: the account is locked there too.
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: user.username, password: PASSWORD },
        })
      ).statusCode,
    ).toBe(429);
    expect((await auditRows(t, user.userId)).filter((row) => row.type === 'reauth.failed')).toHaveLength(5);
    t.clock.advance(61_000);
    nextStep(t);
  });

  it('reauth answers bad input with a clear error, never 500', async () => {
    const user = await signUpWithEmail();
    for (const payload of [{}, { password: '' }, { password: 42 }, { password: PASSWORD, code: '' }]) {
      const response = await reauth(user.accessToken, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error).toBe('validation_failed');
    }
    const noBearer = await t.app.inject({ method: 'POST', url: '/api/auth/reauth', payload: { password: PASSWORD } });
    expect(noBearer.statusCode).toBe(401);
    expect(noBearer.json().error).toBe('unauthorized');
  });
});
