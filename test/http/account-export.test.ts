import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, login, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { enableTOTP } from '../support/two-factor.js';

/**
 * GET /api/user/me/export (GDPR Art. 15, right of access): the person's own data, nothing secret,
 * nobody else's, as a file download that no cache keeps.
 */

const dialects = await testDialects();

describe.each(dialects)('data export on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  const db = () => t.database.handle.db;
  const exportOf = (auth: { authorization: string }) =>
    t.app.inject({ method: 'GET', url: '/api/user/me/export', headers: { ...auth, 'user-agent': 'ExportTest/1' } });

  it('holds the profile, sessions, 2FA status and own audit events, and no secret or hash', async () => {
    const owner = await signUp(t.app, uniqueName('exp'));
    const { secret, backupCodes } = await enableTOTP(t, owner);
    const other = await signUp(t.app, uniqueName('expother'));

    const response = await exportOf(owner.auth);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="twofold-${owner.username}-export.json"`,
    );
    const data = response.json();
    expect(Object.keys(data).sort()).toEqual(
      ['audit_events', 'audit_events_truncated', 'exported_at', 'profile', 'sessions', 'two_factor'].sort(),
    );
    expect(data.exported_at).toBe(t.clock.now().toISOString());
    expect(data.profile).toMatchObject({
      id: owner.userId,
      username: owner.username,
      role: 'user',
      mfa_enabled: true,
      mfa_methods: ['totp'],
      last_login_at: expect.any(String),
    });
    expect(data.two_factor).toEqual({
      totp_enabled: true,
      email_enabled: false,
      backup_codes_remaining: 10,
      totp_count: 1,
    });
    const listed = await t.app.inject({ url: '/api/auth/sessions', headers: owner.auth });
    expect(data.sessions).toEqual(listed.json().sessions);
    expect(data.sessions.length).toBeGreaterThan(0);
    const types = data.audit_events.map((event: { type: string }) => event.type);
    expect(types).toEqual(expect.arrayContaining(['user.registered', 'login.succeeded', 'mfa.totp_enabled']));
    expect(data.audit_events.every((event: { user_id: number }) => event.user_id === owner.userId)).toBe(true);
    expect(data.audit_events_truncated).toBe(false);
    // The same item shape as the administration's audit list.
    expect(Object.keys(data.audit_events[0]).sort()).toEqual(
      ['at', 'detail', 'id', 'ip', 'type', 'user_agent', 'user_id'].sort(),
    );

    // No secret and no hash, searched for in the text of the file.
    const text = response.body;
    const user = await db()
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', owner.userId)
      .executeTakeFirstOrThrow();
    const totp = await db()
      .selectFrom('totp_factors')
      .select('secret_sealed')
      .where('user_id', '=', owner.userId)
      .executeTakeFirstOrThrow();
    const codeHashes = await db()
      .selectFrom('backup_codes')
      .select('code_hash')
      .where('user_id', '=', owner.userId)
      .execute();
    const tokenHashes = await db()
      .selectFrom('refresh_tokens')
      .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
      .select('refresh_tokens.token_hash')
      .where('sessions.user_id', '=', owner.userId)
      .execute();
    expect(codeHashes).toHaveLength(10);
    expect(tokenHashes.length).toBeGreaterThan(0);
    const secrets = [
      user.password_hash,
      secret,
      totp.secret_sealed,
      owner.refreshToken,
      owner.accessToken,
      ...backupCodes,
      ...codeHashes.map((row) => row.code_hash),
      ...tokenHashes.map((row) => row.token_hash),
    ];
    for (const value of secrets) expect(text.includes(value), `the export contains ${value.slice(0, 12)}…`).toBe(false);
    expect(text).not.toMatch(/argon2|password_hash|secret|code_hash|token_hash/i);

    // Nobody else's data: not the other user's name, id in events, or sessions.
    expect(text.includes(other.username)).toBe(false);
    const otherSessions = await db().selectFrom('sessions').select('id').where('user_id', '=', other.userId).execute();
    const exportedSessionIds = data.sessions.map((s: { id: number }) => s.id);
    for (const { id } of otherSessions) expect(exportedSessionIds).not.toContain(id);
  });

  it('is for the bearer of a live token only, and shows the current session as current', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/user/me/export' })).statusCode).toBe(401);
    const owner = await signUp(t.app, uniqueName('expcur'));
    const second = await login(t.app, owner.username);
    const data = (await exportOf(second.auth)).json();
    expect(data.sessions.filter((s: { current: boolean }) => s.current).map((s: { id: number }) => s.id)).toHaveLength(
      1,
    );
    expect(data.sessions).toHaveLength(2);
    await t.app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: second.auth });
    expect((await exportOf(second.auth)).statusCode).toBe(401);
  });

  it('keeps the newest 1,000 audit events and says when older ones exist', async () => {
    const owner = await signUp(t.app, uniqueName('expmany'));
    const at = t.clock.now().getTime();
    const rows = Array.from({ length: 1005 }, (_, i) => ({
      at: at + i,
      type: 'login.failed',
      user_id: owner.userId,
      ip: '192.0.2.1',
      user_agent: null,
      detail: JSON.stringify({ n: i }),
    }));
    for (let i = 0; i < rows.length; i += 200)
      await db()
        .insertInto('audit_events')
        .values(rows.slice(i, i + 200))
        .execute();
    const data = (await exportOf(owner.auth)).json();
    expect(data.audit_events).toHaveLength(1000);
    expect(data.audit_events_truncated).toBe(true);
    // Newest first: the last inserted comes first, and the sign-up's own events are the ones cut.
    expect(data.audit_events[0].detail).toEqual({ n: 1004 });
    expect(data.audit_events[999].detail).toEqual({ n: 5 });
  });
});
