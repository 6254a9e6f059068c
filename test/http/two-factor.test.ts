import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, login, signUp, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import {
  auditRows,
  bearer,
  challenge,
  claimsOf,
  enableTOTP,
  nextStep,
  otherCode,
  passwordLogin,
  secondStep,
  totpNow,
} from '../support/two-factor.js';

const dialects = await testDialects();
const BACKUP_CODE = /^[a-z0-9]{5}-[a-z0-9]{5}$/;

describe.each(dialects)('two-factor authentication over HTTP on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  const status = async (auth: { authorization: string }) =>
    (await t.app.inject({ url: '/api/auth/2fa', headers: auth })).json();
  const me = async (auth: { authorization: string }) =>
    (await t.app.inject({ url: '/api/user/me', headers: auth })).json();

  describe('setup', () => {
    it('returns the secret, the otpauth URL and a PNG QR code, and enables nothing until verify-setup', async () => {
      const a = await signUp(t.app);
      const setup = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth });
      expect(setup.statusCode).toBe(200);
      const body = setup.json();
      expect(Object.keys(body).sort()).toEqual(['otpauth_url', 'qr_base64', 'secret']);
      expect(body.secret).toMatch(/^[A-Z2-7]{32,}$/);
      expect(body.otpauth_url).toBe(
        `otpauth://totp/Twofold:${a.username}?secret=${body.secret}&issuer=Twofold&algorithm=SHA1&digits=6&period=30`,
      );
      expect(body.qr_base64).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
      const png = Buffer.from(body.qr_base64.slice('data:image/png;base64,'.length), 'base64');
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

      expect(await status(a.auth)).toEqual({
        totp_enabled: false,
        email_enabled: false,
        backup_codes_remaining: 0,
        totp_count: 0,
      });
      expect(await me(a.auth)).toMatchObject({ mfa_enabled: false, mfa_methods: [] });
      const signIn = await passwordLogin(t, a.username);
      expect(signIn.statusCode).toBe(200);
      expect(signIn.json().access_token).toEqual(expect.any(String));
      expect((await claimsOf(t, signIn.json().access_token)).amr).toEqual(['pwd']);
    });

    it('replaces a pending secret with a new setup: the first secret no longer verifies', async () => {
      const a = await signUp(t.app);
      const first = (await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth })).json();
      const second = (await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth })).json();
      expect(second.secret).not.toBe(first.secret);
      const rows = await t.database.handle.db
        .selectFrom('totp_factors')
        .selectAll()
        .where('user_id', '=', a.userId)
        .execute();
      expect(rows).toHaveLength(1);

      const stale = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/verify-setup',
        headers: a.auth,
        payload: { code: totpNow(t, first.secret) },
      });
      expect(stale.statusCode).toBe(401);
      expect(stale.json().error).toBe('invalid_mfa_code');
      expect((await status(a.auth)).totp_enabled).toBe(false);
      const fresh = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/verify-setup',
        headers: a.auth,
        payload: { code: totpNow(t, second.secret) },
      });
      expect(fresh.statusCode).toBe(200);
      nextStep(t);
    });

    it.each(['code', 'token'])('verify-setup takes the code as `%s` and returns 10 backup codes', async (field) => {
      const a = await signUp(t.app);
      const { secret } = (await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth })).json();
      const wrong = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/verify-setup',
        headers: a.auth,
        payload: { [field]: otherCode(totpNow(t, secret)) },
      });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error).toBe('invalid_mfa_code');

      const verified = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/verify-setup',
        headers: a.auth,
        payload: { [field]: totpNow(t, secret) },
      });
      nextStep(t);
      expect(verified.statusCode).toBe(200);
      const body = verified.json();
      expect(body.enabled).toBe(true);
      expect(body.backup_codes).toHaveLength(10);
      for (const code of body.backup_codes) expect(code).toMatch(BACKUP_CODE);
      expect(new Set(body.backup_codes).size).toBe(10);
      expect(await status(a.auth)).toEqual({
        totp_enabled: true,
        email_enabled: false,
        backup_codes_remaining: 10,
        totp_count: 1,
      });
      expect(await me(a.auth)).toMatchObject({ mfa_enabled: true, mfa_methods: ['totp'] });
    });

    it('verify-setup without a code is validation_failed, and without a setup mfa_not_enabled', async () => {
      const a = await signUp(t.app);
      const noSetup = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/verify-setup',
        headers: a.auth,
        payload: { code: '123456' },
      });
      expect(noSetup.statusCode).toBe(409);
      expect(noSetup.json().error).toBe('mfa_not_enabled');
      await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth });
      const empty = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/verify-setup',
        headers: a.auth,
        payload: {},
      });
      expect(empty.statusCode).toBe(400);
      expect(empty.json()).toMatchObject({ error: 'validation_failed', fields: { code: expect.any(String) } });
    });

    it('refuses verify-setup with no pending setup while TOTP is enabled with 409 mfa_already_enabled', async () => {
      const a = await signUp(t.app);
      const { secret } = await enableTOTP(t, a);
      // A new setup while TOTP is on adds another authenticator app (authenticators.test.ts); without one,
      // verify-setup has nothing to confirm.
      const verifyAgain = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/verify-setup',
        headers: a.auth,
        payload: { code: totpNow(t, secret) },
      });
      expect(verifyAgain.statusCode).toBe(409);
      expect(verifyAgain.json()).toMatchObject({
        error: 'mfa_already_enabled',
        message: 'No authenticator app is waiting to be confirmed: start with POST /api/auth/2fa/setup.',
      });
    });
  });

  describe('login', () => {
    it('answers the password step with an mfa_challenge, and the TOTP second step with tokens whose amr is pwd,otp', async () => {
      const a = await signUp(t.app);
      const { secret } = await enableTOTP(t, a);
      const first = await passwordLogin(t, a.username);
      expect(first.statusCode).toBe(200);
      const body = first.json();
      expect(body).toEqual({
        mfa_required: true,
        '2fa_required': true,
        mfa_token: expect.any(String),
        login_token: body.mfa_token,
        mfa_methods: expect.arrayContaining(['totp']),
        expires_in: 300,
      });
      expect(body.mfa_methods).toEqual(['totp', 'backup_code']);
      expect(body.mfa_token.length).toBeGreaterThanOrEqual(43);

      const second = await secondStep(t, body.mfa_token, totpNow(t, secret));
      expect(second.statusCode).toBe(200);
      const tokens = second.json();
      expect(tokens).toMatchObject({
        token_type: 'Bearer',
        expires_in: 600,
        refresh_token: expect.any(String),
        '2fa_required': false,
        user: { id: a.userId, mfa_enabled: true, mfa_methods: ['totp'] },
      });
      expect((await claimsOf(t, tokens.access_token)).amr).toEqual(['pwd', 'otp']);
      expect((await t.app.inject({ url: '/api/user/me', headers: bearer(tokens.access_token) })).statusCode).toBe(200);
      // A refreshed session keeps the strength of its sign-in.
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        payload: { refresh_token: tokens.refresh_token },
      });
      expect((await claimsOf(t, refreshed.json().access_token)).amr).toEqual(['pwd', 'otp']);
      // …and answers with the same user as /me, second factors included.
      const me = await t.app.inject({ url: '/api/user/me', headers: bearer(refreshed.json().access_token) });
      expect(refreshed.json().user).toEqual(me.json());
      expect(refreshed.json().user).toMatchObject({ mfa_enabled: true, mfa_methods: ['totp'] });
    });

    it.each(['/api/auth/login', '/login'])('signs in in one step with totp_code on %s', async (url) => {
      const a = await signUp(t.app);
      const { secret } = await enableTOTP(t, a);
      const response = await passwordLogin(t, a.username, { totp_code: totpNow(t, secret) }, url);
      expect(response.statusCode).toBe(200);
      expect(response.json().mfa_required).toBeUndefined();
      expect((await claimsOf(t, response.json().access_token)).amr).toEqual(['pwd', 'otp']);
      expect((await auditRows(t, a.userId)).map((r) => r.type)).toContain('mfa.used');
    });

    it('answers a wrong totp_code with 401 invalid_mfa_code, and a wrong password first with invalid_credentials', async () => {
      const a = await signUp(t.app);
      const { secret } = await enableTOTP(t, a);
      const wrongCode = await passwordLogin(t, a.username, { totp_code: otherCode(totpNow(t, secret)) });
      expect(wrongCode.statusCode).toBe(401);
      expect(wrongCode.json()).toEqual({ error: 'invalid_mfa_code', message: expect.any(String) });
      const notDigits = await passwordLogin(t, a.username, { totp_code: 'abcdef' });
      expect(notDigits.json().error).toBe('invalid_mfa_code');
      const wrongPassword = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: a.username, password: 'not the password', totp_code: totpNow(t, secret) },
      });
      expect(wrongPassword.statusCode).toBe(401);
      expect(wrongPassword.json().error).toBe('invalid_credentials');
      // Neither failure burnt the step: the code still signs in.
      expect((await passwordLogin(t, a.username, { totp_code: totpNow(t, secret) })).statusCode).toBe(200);
    });

    it('signs in with a backup code once, with or without the dash and in any case', async () => {
      const a = await signUp(t.app);
      const { backupCodes } = await enableTOTP(t, a);
      const [first, second, third] = backupCodes as [string, string, string];

      const noDash = await secondStep(
        t,
        await challenge(t, a.username),
        first.replace('-', '').toUpperCase(),
        'backup_code',
      );
      expect(noDash.statusCode).toBe(200);
      expect((await claimsOf(t, noDash.json().access_token)).amr).toEqual(['pwd', 'otp']);
      const again = await secondStep(t, await challenge(t, a.username), first, 'backup_code');
      expect(again.statusCode).toBe(401);
      expect(again.json().error).toBe('invalid_mfa_code');

      // Without `method` the code's shape decides; spaces and upper case are forgiven.
      const upper = await secondStep(t, await challenge(t, a.username), ` ${second.toUpperCase()} `);
      expect(upper.statusCode).toBe(200);
      const spaced = await secondStep(t, await challenge(t, a.username), third.replace('-', ' '), 'backup_code');
      expect(spaced.statusCode).toBe(200);
      expect((await status(a.auth)).backup_codes_remaining).toBe(7);
      const used = await t.database.handle.db
        .selectFrom('backup_codes')
        .select('code_hash')
        .where('user_id', '=', a.userId)
        .execute();
      for (const row of used)
        for (const code of backupCodes) expect(row.code_hash).not.toContain(code.replace('-', ''));
    });
  });

  describe('management', () => {
    it('regenerates backup codes with the password; the old codes stop working', async () => {
      const a = await signUp(t.app);
      const { backupCodes: old } = await enableTOTP(t, a);
      const wrong = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/backup-codes',
        headers: a.auth,
        payload: { password: 'not the password' },
      });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error).toBe('invalid_credentials');
      const missing = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/backup-codes',
        headers: a.auth,
        payload: {},
      });
      expect(missing.statusCode).toBe(400);

      const fresh = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/backup-codes',
        headers: a.auth,
        payload: { password: PASSWORD },
      });
      expect(fresh.statusCode).toBe(200);
      const codes: string[] = fresh.json().backup_codes;
      expect(codes).toHaveLength(10);
      for (const code of codes) expect(code).toMatch(BACKUP_CODE);
      expect(codes.filter((c) => old.includes(c))).toEqual([]);

      const oldCode = await secondStep(t, await challenge(t, a.username), old[0]!, 'backup_code');
      expect(oldCode.statusCode).toBe(401);
      expect(oldCode.json().error).toBe('invalid_mfa_code');
      expect((await secondStep(t, await challenge(t, a.username), codes[0]!, 'backup_code')).statusCode).toBe(200);
      expect((await status(a.auth)).backup_codes_remaining).toBe(9);
    });

    it('refuses to regenerate backup codes without 2FA with 409 mfa_not_enabled', async () => {
      const a = await signUp(t.app);
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/backup-codes',
        headers: a.auth,
        payload: { password: PASSWORD },
      });
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toBe('mfa_not_enabled');
    });

    it('disables 2FA with the password and a TOTP code, removing every factor and code', async () => {
      const a = await signUp(t.app);
      const { secret } = await enableTOTP(t, a);
      await challenge(t, a.username); // leaves a pending flow behind
      const disable = (payload: object) =>
        t.app.inject({ method: 'POST', url: '/api/auth/2fa/disable', headers: a.auth, payload });

      const wrongPassword = await disable({ password: 'not the password', code: totpNow(t, secret) });
      expect(wrongPassword.statusCode).toBe(401);
      expect(wrongPassword.json().error).toBe('invalid_credentials');
      const wrongCode = await disable({ password: PASSWORD, code: otherCode(totpNow(t, secret)) });
      expect(wrongCode.statusCode).toBe(401);
      expect(wrongCode.json().error).toBe('invalid_mfa_code');
      expect((await status(a.auth)).totp_enabled).toBe(true);

      const done = await disable({ password: PASSWORD, code: totpNow(t, secret) });
      expect(done.statusCode).toBe(200);
      expect(done.json()).toEqual({ enabled: false, mfa_enabled: false, mfa_methods: [] });
      const db = t.database.handle.db;
      for (const table of ['totp_factors', 'email_factors', 'email_codes', 'backup_codes', 'mfa_flows'] as const) {
        expect(await db.selectFrom(table).select('user_id').where('user_id', '=', a.userId).execute()).toEqual([]);
      }
      expect(await status(a.auth)).toEqual({
        totp_enabled: false,
        email_enabled: false,
        backup_codes_remaining: 0,
        totp_count: 0,
      });
      expect(await me(a.auth)).toMatchObject({ mfa_enabled: false, mfa_methods: [] });
      const signIn = await passwordLogin(t, a.username);
      expect((await claimsOf(t, signIn.json().access_token)).amr).toEqual(['pwd']);
    });

    it('disables 2FA with a backup code as the confirming code', async () => {
      const a = await signUp(t.app);
      const { backupCodes } = await enableTOTP(t, a);
      const done = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/disable',
        headers: a.auth,
        payload: { password: PASSWORD, code: backupCodes[3] },
      });
      expect(done.statusCode).toBe(200);
      expect(done.json()).toEqual({ enabled: false, mfa_enabled: false, mfa_methods: [] });
    });

    it('refuses to disable 2FA that is not enabled with 409 mfa_not_enabled', async () => {
      const a = await signUp(t.app);
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/disable',
        headers: a.auth,
        payload: { password: PASSWORD, code: '123456' },
      });
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toBe('mfa_not_enabled');
    });

    it('needs an access token for every management endpoint', async () => {
      for (const [method, url] of [
        ['GET', '/api/auth/2fa'],
        ['POST', '/api/auth/2fa/setup'],
        ['POST', '/api/auth/2fa/verify-setup'],
        ['POST', '/api/auth/2fa/disable'],
        ['POST', '/api/auth/2fa/backup-codes'],
        ['POST', '/api/auth/2fa/email/enable'],
      ] as const) {
        const response = await t.app.inject({ method, url, payload: method === 'POST' ? {} : undefined });
        expect(response.statusCode, url).toBe(401);
        expect(response.json().error).toBe('unauthorized');
      }
    });
  });

  it('stores the TOTP secret sealed and never returns it after setup', async () => {
    const a = await signUp(t.app);
    const setup = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth });
    const { secret } = setup.json();
    const row = await t.database.handle.db
      .selectFrom('totp_factors')
      .selectAll()
      .where('user_id', '=', a.userId)
      .executeTakeFirstOrThrow();
    expect(row.secret_sealed).not.toContain(secret);
    expect(row.secret_sealed.toUpperCase()).not.toContain(secret.slice(0, 16));
    expect(row.secret_sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);

    const bodies: string[] = [];
    const record = (body: string): string => (bodies.push(body), body);
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/verify-setup',
      headers: a.auth,
      payload: { code: totpNow(t, secret) },
    });
    record(verified.body);
    nextStep(t);
    record((await t.app.inject({ url: '/api/auth/2fa', headers: a.auth })).body);
    record((await t.app.inject({ url: '/api/user/me', headers: a.auth })).body);
    const first = record((await passwordLogin(t, a.username)).body);
    const tokens = record((await secondStep(t, JSON.parse(first).mfa_token, totpNow(t, secret))).body);
    const claims = await claimsOf(t, JSON.parse(tokens).access_token);
    record(JSON.stringify(claims));
    record(Buffer.from(JSON.parse(tokens).access_token.split('.')[1], 'base64url').toString());
    record(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/auth/2fa/backup-codes',
          headers: a.auth,
          payload: { password: PASSWORD },
        })
      ).body,
    );
    record((await t.app.inject({ url: '/api/auth/sessions', headers: a.auth })).body);
    record((await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth })).body);
    for (const body of bodies) expect(body).not.toContain(secret);
    for (const event of await auditRows(t, a.userId)) expect(JSON.stringify(event)).not.toContain(secret);
  });

  describe('administration', () => {
    async function signUpAdmin() {
      const admin = await signUp(t.app);
      await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.userId).execute();
      return { ...admin, ...(await login(t.app, admin.username)) };
    }

    it("an admin resets a user's 2FA: factors removed, user returned, the user's sessions end", async () => {
      const target = await signUp(t.app);
      const { secret, backupCodes } = await enableTOTP(t, target);
      const targetTokens = (await secondStep(t, await challenge(t, target.username), totpNow(t, secret))).json();
      const admin = await signUpAdmin();

      const reset = await t.app.inject({
        method: 'POST',
        url: `/api/admin/users/${target.userId}/2fa/reset`,
        headers: admin.auth,
      });
      expect(reset.statusCode).toBe(200);
      expect(reset.json()).toMatchObject({
        id: target.userId,
        username: target.username,
        mfa_enabled: false,
        mfa_methods: [],
      });

      for (const access of [target.accessToken, targetTokens.access_token]) {
        const gone = await t.app.inject({ url: '/api/user/me', headers: bearer(access) });
        expect(gone.statusCode).toBe(401);
        expect(gone.json().error).toBe('unauthorized');
      }
      const refresh = await t.app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        payload: { refresh_token: targetTokens.refresh_token },
      });
      expect(refresh.statusCode).toBe(401);
      expect(
        await t.database.handle.db
          .selectFrom('backup_codes')
          .select('id')
          .where('user_id', '=', target.userId)
          .execute(),
      ).toEqual([]);
      // The user signs in with the password alone and can set up a new device; old backup codes are gone.
      const signIn = await passwordLogin(t, target.username, { totp_code: totpNow(t, secret) });
      expect(signIn.statusCode).toBe(200);
      expect((await claimsOf(t, signIn.json().access_token)).amr).toEqual(['pwd']);
      expect(backupCodes).toHaveLength(10);

      const events = await auditRows(t, target.userId);
      const resetEvent = events.find((e) => e.type === 'mfa.reset');
      expect(resetEvent).toBeDefined();
      expect(JSON.parse(resetEvent!.detail)).toEqual({ by: admin.userId });
      // The admin session is untouched.
      expect((await t.app.inject({ url: '/api/user/me', headers: admin.auth })).statusCode).toBe(200);
    });

    it('refuses the reset to a non-admin with 403 forbidden and to a missing user with 404', async () => {
      const target = await signUp(t.app);
      await enableTOTP(t, target);
      const other = await signUp(t.app);
      const forbidden = await t.app.inject({
        method: 'POST',
        url: `/api/admin/users/${target.userId}/2fa/reset`,
        headers: other.auth,
      });
      expect(forbidden.statusCode).toBe(403);
      expect(forbidden.json().error).toBe('forbidden');
      const self = await t.app.inject({
        method: 'POST',
        url: `/api/admin/users/${target.userId}/2fa/reset`,
        headers: target.auth,
      });
      expect(self.statusCode).toBe(403);
      expect((await status(target.auth)).totp_enabled).toBe(true);

      const admin = await signUpAdmin();
      const missing = await t.app.inject({
        method: 'POST',
        url: '/api/admin/users/999999/2fa/reset',
        headers: admin.auth,
      });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error).toBe('not_found');
    });
  });

  it('audits every 2FA event without the code or the secret', async () => {
    const a = await signUp(t.app);
    const { secret, backupCodes } = await enableTOTP(t, a);
    const codes: string[] = [...backupCodes, ...backupCodes.map((c) => c.replace('-', ''))];
    const use = (code: string): string => (codes.push(code), code);

    expect((await secondStep(t, await challenge(t, a.username), use(totpNow(t, secret)))).statusCode).toBe(200);
    nextStep(t);
    expect((await secondStep(t, await challenge(t, a.username), use(otherCode(totpNow(t, secret))))).statusCode).toBe(
      401,
    );
    expect((await passwordLogin(t, a.username, { totp_code: use(otherCode(totpNow(t, secret), 7)) })).statusCode).toBe(
      401,
    );
    expect((await secondStep(t, await challenge(t, a.username), backupCodes[0]!, 'backup_code')).statusCode).toBe(200);
    const disabled = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/disable',
      headers: a.auth,
      payload: { password: PASSWORD, code: use(totpNow(t, secret)) },
    });
    expect(disabled.statusCode).toBe(200);

    const again = await enableTOTP(t, a);
    codes.push(...again.backupCodes);
    const admin = await signUp(t.app);
    await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.userId).execute();
    const adminSession = await login(t.app, admin.username);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/api/admin/users/${a.userId}/2fa/reset`,
          headers: adminSession.auth,
        })
      ).statusCode,
    ).toBe(200);

    const events = await auditRows(t, a.userId);
    const types = events.map((e) => e.type);
    for (const type of [
      'mfa.totp_enabled',
      'mfa.used',
      'mfa.failed',
      'mfa.backup_code_used',
      'mfa.disabled',
      'mfa.reset',
    ])
      expect(types).toContain(type);
    expect(types.filter((type) => type === 'mfa.totp_enabled')).toHaveLength(2);
    expect(types.filter((type) => type === 'mfa.failed')).toHaveLength(2);
    expect(events.find((e) => e.type === 'mfa.backup_code_used')!.detail).toBe('{"method":"backup_code"}');
    for (const event of events) {
      const text = JSON.stringify(event);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(again.secret);
      expect(text).not.toContain(PASSWORD);
      for (const code of codes) expect(text).not.toContain(code);
    }
  });
});
