import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, login, signUp, uniqueName, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { auditRows } from '../support/two-factor.js';

/** DELETE /api/admin/users/:id and POST /api/admin/users/:id/logout-all: an administrator acting on another person. */

const dialects = await testDialects();

describe.each(dialects)('administrators deleting accounts and ending sessions on %s', (dialect) => {
  let t: TestApp;
  let admin: Session & { username: string };
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
    admin = await signUpAdmin();
  });
  afterAll(async () => t?.close());

  const db = () => t.database.handle.db;
  const ADMIN_CLIENT = { 'user-agent': 'AdminConsole/2' };

  async function signUpAdmin(): Promise<Session & { username: string }> {
    const created = await signUp(t.app, uniqueName('admin'));
    await db().updateTable('users').set({ role: 'admin' }).where('id', '=', created.userId).execute();
    return { ...(await login(t.app, created.username)), username: created.username };
  }
  const act = (method: 'DELETE' | 'POST', url: string, auth = admin.auth) =>
    t.app.inject({ method, url, headers: { ...auth, ...ADMIN_CLIENT } });
  const probe = (session: Session) => t.app.inject({ url: '/api/products', headers: session.auth });
  const refresh = (session: Session) =>
    t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: session.refreshToken } });

  it('signs a user out everywhere: every session ends at once, the account stays, the trail names the admin', async () => {
    const user = await signUp(t.app, uniqueName('out'));
    const laptop = await login(t.app, user.username);
    for (const s of [user, laptop]) expect((await probe(s)).statusCode).toBe(200);
    const response = await act('POST', `/api/admin/users/${user.userId}/logout-all`);
    expect(response.statusCode, response.body).toBe(204);
    for (const s of [user, laptop]) {
      expect((await probe(s)).statusCode).toBe(401);
      expect((await refresh(s)).json().error).toBe('refresh_token_invalid');
    }
    // The person can sign in again: only the sessions ended.
    await login(t.app, user.username);
    const event = (await auditRows(t, user.userId)).find((e) => e.type === 'sessions.revoked');
    expect(event).toMatchObject({ user_agent: 'AdminConsole/2', detail: JSON.stringify({ by: admin.userId }) });
    // The administrator's own session is untouched.
    expect((await probe(admin)).statusCode).toBe(200);
  });

  it('deletes another account with the same effects as self-deletion, recorded with the admin as actor', async () => {
    const user = await signUp(t.app, uniqueName('gone'));
    expect((await probe(user)).statusCode).toBe(200);
    const response = await act('DELETE', `/api/admin/users/${user.userId}`);
    expect(response.statusCode, response.body).toBe(204);
    expect((await probe(user)).statusCode).toBe(401);
    expect((await refresh(user)).json().error).toBe('refresh_token_invalid');
    expect(
      await db().selectFrom('users').select('id').where('id', '=', user.userId).executeTakeFirst(),
    ).toBeUndefined();
    const events = await auditRows(t, user.userId);
    expect(events.map((e) => e.type)).toEqual(['user.registered', 'login.succeeded', 'account.deleted']);
    // The deleted person's request data is erased; the deletion carries the administrator's.
    expect(events.slice(0, -1).every((e) => e.ip === null && e.user_agent === null)).toBe(true);
    expect(events.at(-1)).toMatchObject({ user_agent: 'AdminConsole/2', detail: JSON.stringify({ by: admin.userId }) });
    // Gone is gone: a second deletion and a sign-out of the deleted id are 404.
    expect((await act('DELETE', `/api/admin/users/${user.userId}`)).statusCode).toBe(404);
    expect((await act('POST', `/api/admin/users/${user.userId}/logout-all`)).statusCode).toBe(404);
  });

  it('sends an administrator to DELETE /api/user/me for their own account, and may delete another admin', async () => {
    const self = await act('DELETE', `/api/admin/users/${admin.userId}`);
    expect(self.statusCode).toBe(400);
    expect(Object.keys(self.json().fields)).toEqual(['id']);
    expect((await probe(admin)).statusCode).toBe(200);
    const other = await signUpAdmin();
    expect((await act('DELETE', `/api/admin/users/${other.userId}`)).statusCode).toBe(204);
    expect((await probe(other)).statusCode).toBe(401);
  });

  it('refuses both routes to a normal user (403), without a token (401), and for ids that are not ids (400)', async () => {
    const user = await signUp(t.app, uniqueName('plain'));
    const victim = await signUp(t.app, uniqueName('victim'));
    for (const [method, url] of [
      ['DELETE', `/api/admin/users/${victim.userId}`],
      ['POST', `/api/admin/users/${victim.userId}/logout-all`],
    ] as const) {
      const asUser = await act(method, url, user.auth);
      expect(asUser.statusCode, url).toBe(403);
      expect(asUser.json().error).toBe('forbidden');
      expect((await t.app.inject({ method, url })).statusCode, url).toBe(401);
    }
    for (const id of ['0', '-1', 'abc', '1.5', '99999999999'])
      expect((await act('DELETE', `/api/admin/users/${id}`)).statusCode, id).toBe(400);
    expect((await probe(victim)).statusCode).toBe(200);
  });
  // Last: it moves the test clock past REAUTH_MAX_AGE (300 s by default).
  it('a deletion needs a recent sign-in: an older administrator token gets 403 reauth_required and deletes nobody', async () => {
    const other = await signUpAdmin();
    const user = await signUp(t.app, uniqueName('kept'));
    t.clock.advance(300_000 + 1000);
    const refused = await act('DELETE', `/api/admin/users/${user.userId}`, other.auth);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().error).toBe('reauth_required');
    expect(await db().selectFrom('users').select('id').where('id', '=', user.userId).executeTakeFirst()).toEqual({
      id: user.userId,
    });
    // A non-administrator is refused as such first, whatever the age of the sign-in.
    const notAdmin = await act('DELETE', `/api/admin/users/${user.userId}`, user.auth);
    expect(notAdmin.json().error).toBe('forbidden');

    const reauth = await t.app.inject({
      method: 'POST',
      url: '/api/auth/reauth',
      headers: other.auth,
      payload: { password: PASSWORD },
    });
    expect(reauth.statusCode, reauth.body).toBe(200);
    const fresh = { authorization: `Bearer ${reauth.json().access_token as string}` };
    expect((await act('DELETE', `/api/admin/users/${user.userId}`, fresh)).statusCode).toBe(204);
  });
});
