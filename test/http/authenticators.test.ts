import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PASSWORD,
  buildTestApp,
  login,
  register,
  signUp,
  uniqueName,
  type Session,
  type TestApp,
} from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { startMailbox, type Mailbox } from '../support/mailbox.js';
import {
  addAuthenticator,
  auditRows,
  challenge,
  enableEmailCodes,
  nextStep,
  passwordLogin,
  secondStep,
  totpNow,
} from '../support/two-factor.js';

const dialects = await testDialects();
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * Several authenticator apps per account (phone and tablet, as Keycloak's account console allows):
 * each app's codes sign in, each app's codes are accepted once (RFC 6238 §5.2, per secret), removing
 * one stops its codes only, and removing the last second factor is turning 2FA off.
 */
describe.each(dialects)('several authenticator apps on %s', (dialect) => {
  let t: TestApp;
  let mailbox: Mailbox;
  beforeAll(async () => {
    mailbox = await startMailbox();
    t = await buildTestApp({ dialect, env: { SMTP_URL: mailbox.url, MAIL_FROM: 'Twofold <no-reply@example.test>' } });
  });
  afterAll(async () => {
    await t?.close();
    await mailbox?.close();
  });

  const list = async (session: Session) => {
    const response = await t.app.inject({ url: '/api/auth/2fa/authenticators', headers: session.auth });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    return response.json().authenticators as Array<{
      id: number;
      name: string;
      created_at: string;
      last_used_at: string | null;
    }>;
  };
  const status = async (session: Session) =>
    (await t.app.inject({ url: '/api/auth/2fa', headers: session.auth })).json();
  const remove = (session: Session, id: number) =>
    t.app.inject({ method: 'DELETE', url: `/api/auth/2fa/authenticators/${id}`, headers: session.auth });
  /** The authenticator apps' audit lines of a user, detail parsed. */
  const totpAudit = async (userId: number) =>
    (await auditRows(t, userId))
      .filter((row) => row.type.startsWith('mfa.totp'))
      .map((row) => ({ type: row.type, detail: JSON.parse(row.detail), ip: row.ip, user_agent: row.user_agent }));
  /** The second step of a fresh sign-in with `code`: its status. */
  const signInWith = async (username: string, code: string) =>
    (await secondStep(t, await challenge(t, username), code)).statusCode;

  it('adds two named apps; backup codes come with the first only; the list shows names and never a secret', async () => {
    const a = await signUp(t.app);
    const phone = await addAuthenticator(t, a, 'Phone');
    const tablet = await addAuthenticator(t, a, 'Tablet');
    expect(phone.backupCodes).toHaveLength(10);
    // The codes the person wrote down stay the valid ones.
    expect(tablet.backupCodes).toBeUndefined();
    const items = await list(a);
    expect(items).toEqual([
      { id: phone.id, name: 'Phone', created_at: expect.stringMatching(ISO), last_used_at: null },
      { id: tablet.id, name: 'Tablet', created_at: expect.stringMatching(ISO), last_used_at: null },
    ]);
    for (const item of items) expect(Object.keys(item).sort()).toEqual(['created_at', 'id', 'last_used_at', 'name']);
    expect(JSON.stringify(items)).not.toContain(phone.secret);
    expect(await status(a)).toEqual({
      totp_enabled: true,
      email_enabled: false,
      backup_codes_remaining: 10,
      totp_count: 2,
    });
    const types = (await auditRows(t, a.userId)).map((row) => row.type);
    expect(types.filter((type) => type.startsWith('mfa.totp'))).toEqual(['mfa.totp_enabled', 'mfa.totp_added']);
    // Each line names the app and where the request came from.
    expect(await totpAudit(a.userId)).toEqual([
      { type: 'mfa.totp_enabled', detail: { id: phone.id }, ip: '127.0.0.1', user_agent: expect.any(String) },
      { type: 'mfa.totp_added', detail: { id: tablet.id }, ip: '127.0.0.1', user_agent: expect.any(String) },
    ]);
  });

  it('adding another app answers no new backup codes while some are left, and new ones once none are', async () => {
    const a = await signUp(t.app);
    await addAuthenticator(t, a, 'Phone');
    const confirm = async (name: string) => {
      const setup = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/setup',
        headers: a.auth,
        payload: { name },
      });
      const verified = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/verify-setup',
        headers: a.auth,
        payload: { code: totpNow(t, setup.json().secret) },
      });
      nextStep(t);
      expect(verified.statusCode).toBe(200);
      return verified.json();
    };
    expect(await confirm('Tablet')).toEqual({ enabled: true });
    // None left (each one spent at a sign-in): without new ones the person would have no fallback.
    await t.database.handle.db.deleteFrom('backup_codes').where('user_id', '=', a.userId).execute();
    const laptop = await confirm('Laptop');
    expect(laptop).toEqual({ enabled: true, backup_codes: expect.any(Array) });
    expect(laptop.backup_codes).toHaveLength(10);
    expect(await status(a)).toMatchObject({ backup_codes_remaining: 10, totp_count: 3 });
  });

  it('takes the name at verify-setup too, and a setup without a body or with {} as before (the default name)', async () => {
    const a = await signUp(t.app);
    const bare = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth });
    expect(bare.statusCode).toBe(200);
    const empty = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth, payload: {} });
    expect(empty.statusCode).toBe(200);
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/verify-setup',
      headers: a.auth,
      payload: { code: totpNow(t, empty.json().secret), name: '  Work phone  ' },
    });
    expect(verified.statusCode).toBe(200);
    nextStep(t);
    await addAuthenticator(t, a);
    expect((await list(a)).map((item) => item.name)).toEqual(['Work phone', 'Authenticator app']);
  });

  it("signs in with either app's code, in two steps and in one, and shows when each was last used", async () => {
    const a = await signUp(t.app);
    const phone = await addAuthenticator(t, a, 'Phone');
    const tablet = await addAuthenticator(t, a, 'Tablet');
    expect(await signInWith(a.username, totpNow(t, phone.secret))).toBe(200);
    const phoneUsedAt = t.clock.now().toISOString();
    nextStep(t);
    expect(await signInWith(a.username, totpNow(t, tablet.secret))).toBe(200);
    nextStep(t);
    const oneStep = await passwordLogin(t, a.username, { totp_code: totpNow(t, tablet.secret) });
    expect(oneStep.statusCode).toBe(200);
    expect(oneStep.json()).toHaveProperty('access_token');
    const items = await list(a);
    expect(items.find((item) => item.id === phone.id)?.last_used_at).toBe(phoneUsedAt);
    expect(items.find((item) => item.id === tablet.id)?.last_used_at).toBe(t.clock.now().toISOString());
  });

  it("refuses a replayed code per app: each app's code is accepted once, the other app's code in the same step still is", async () => {
    const a = await signUp(t.app);
    const phone = await addAuthenticator(t, a, 'Phone');
    const tablet = await addAuthenticator(t, a, 'Tablet');
    const phoneCode = totpNow(t, phone.secret);
    expect(await signInWith(a.username, phoneCode)).toBe(200);
    expect(await signInWith(a.username, phoneCode)).toBe(401);
    // Same time step, the other secret: its own guard has not seen this step.
    const tabletCode = totpNow(t, tablet.secret);
    expect(await signInWith(a.username, tabletCode)).toBe(200);
    expect(await signInWith(a.username, tabletCode)).toBe(401);
  });

  it("removing one app stops its codes only; reauth and disable take the other app's code", async () => {
    const a = await signUp(t.app);
    const phone = await addAuthenticator(t, a, 'Phone');
    const tablet = await addAuthenticator(t, a, 'Tablet');
    const removed = await remove(a, phone.id);
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toEqual({ enabled: true, mfa_enabled: true, mfa_methods: ['totp'] });
    expect((await list(a)).map((item) => item.id)).toEqual([tablet.id]);
    expect(await signInWith(a.username, totpNow(t, phone.secret))).toBe(401);
    expect(await signInWith(a.username, totpNow(t, tablet.secret))).toBe(200);
    nextStep(t);
    const reauth = await t.app.inject({
      method: 'POST',
      url: '/api/auth/reauth',
      headers: a.auth,
      payload: { password: PASSWORD, code: totpNow(t, tablet.secret) },
    });
    expect(reauth.statusCode).toBe(200);
    expect(await status(a)).toMatchObject({ totp_enabled: true, backup_codes_remaining: 10, totp_count: 1 });
    nextStep(t);
    const disabled = await t.app.inject({
      method: 'POST',
      url: '/api/auth/2fa/disable',
      headers: a.auth,
      payload: { password: PASSWORD, code: totpNow(t, tablet.secret) },
    });
    expect(disabled.json()).toEqual({ enabled: false, mfa_enabled: false, mfa_methods: [] });
    const types = (await auditRows(t, a.userId)).map((row) => row.type);
    expect(types).toContain('mfa.totp_removed');
    expect((await totpAudit(a.userId)).find((row) => row.type === 'mfa.totp_removed')).toEqual({
      type: 'mfa.totp_removed',
      detail: { id: phone.id },
      ip: '127.0.0.1',
      user_agent: expect.any(String),
    });
  });

  it('removing the last app is turning 2FA off: backup codes gone, sign-in with the password alone, audited as a disable', async () => {
    const a = await signUp(t.app);
    const phone = await addAuthenticator(t, a, 'Phone');
    const removed = await remove(a, phone.id);
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toEqual({ enabled: false, mfa_enabled: false, mfa_methods: [] });
    expect(await status(a)).toEqual({
      totp_enabled: false,
      email_enabled: false,
      backup_codes_remaining: 0,
      totp_count: 0,
    });
    const backupCodes = await t.database.handle.db
      .selectFrom('backup_codes')
      .select('id')
      .where('user_id', '=', a.userId)
      .execute();
    expect(backupCodes).toEqual([]);
    const signedIn = await passwordLogin(t, a.username);
    expect(signedIn.json()).toHaveProperty('access_token');
    expect(signedIn.json().user).toMatchObject({ mfa_enabled: false, mfa_methods: [] });
    const types = (await auditRows(t, a.userId)).map((row) => row.type);
    expect(types.slice(-3, -1)).toEqual(['mfa.totp_removed', 'mfa.disabled']);
    const disabled = (await auditRows(t, a.userId)).find((row) => row.type === 'mfa.disabled')!;
    expect(JSON.parse(disabled.detail)).toEqual({ confirmed_with: 'recent_auth', removed: 'last_authenticator' });
    expect(disabled.ip).toBe('127.0.0.1');
  });

  it('removing the last app while email codes are on leaves 2FA on, with the backup codes', async () => {
    const username = uniqueName();
    const email = `${username.toLowerCase()}@example.test`;
    expect((await register(t.app, username, PASSWORD, email)).statusCode).toBe(201);
    const a = await login(t.app, username);
    const phone = await addAuthenticator(t, a, 'Phone');
    await enableEmailCodes(t, a, email, mailbox);
    const removed = await remove(a, phone.id);
    expect(removed.json()).toEqual({ enabled: true, mfa_enabled: true, mfa_methods: ['email'] });
    expect(await status(a)).toEqual({
      totp_enabled: false,
      email_enabled: true,
      backup_codes_remaining: 10,
      totp_count: 0,
    });
  });

  it('renames an app: the new name is listed and audited, the secret and its codes unchanged', async () => {
    const a = await signUp(t.app);
    const phone = await addAuthenticator(t, a, 'Phone');
    const renamed = await t.app.inject({
      method: 'PATCH',
      url: `/api/auth/2fa/authenticators/${phone.id}`,
      headers: a.auth,
      payload: { name: 'Old phone' },
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ id: phone.id, name: 'Old phone', last_used_at: null });
    expect((await list(a))[0]?.name).toBe('Old phone');
    expect(await signInWith(a.username, totpNow(t, phone.secret))).toBe(200);
    expect((await auditRows(t, a.userId)).map((row) => row.type)).toContain('mfa.totp_renamed');
    expect((await totpAudit(a.userId)).find((row) => row.type === 'mfa.totp_renamed')).toEqual({
      type: 'mfa.totp_renamed',
      detail: { id: phone.id },
      ip: '127.0.0.1',
      user_agent: expect.any(String),
    });
  });
});
