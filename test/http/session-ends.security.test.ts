import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, login, signUp, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { bearer } from '../support/two-factor.js';

const dialects = await testDialects();

/**
 * Where a session ends: at its expiry to the millisecond, when its owner (and only its owner) ends it,
 * and when it was ended elsewhere while this instance still holds it as live in its cache (OWASP
 * Session Management Cheat Sheet, "Session Expiration"; ASVS V3.3, session termination).
 */
describe.each(dialects)('the end of a session on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    // Short sessions, longer access tokens: the session's own end is what refuses a token.
    t = await buildTestApp({ dialect, env: { REFRESH_TOKEN_TTL: '120', ACCESS_TOKEN_TTL: '600' } });
  });
  afterAll(async () => t?.close());

  const me = (auth: Record<string, string>) => t.app.inject({ method: 'GET', url: '/api/user/me', headers: auth });
  const refresh = (refreshToken: string) =>
    t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: refreshToken } });
  const sessionsOf = async (session: Pick<Session, 'auth'>) =>
    (await t.app.inject({ url: '/api/auth/sessions', headers: session.auth })).json().sessions as Array<{
      id: number;
      current: boolean;
      last_used_at: string;
      user_agent: string | null;
    }>;
  const end = (session: Pick<Session, 'auth'>, id: number) =>
    t.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${id}`, headers: session.auth });

  it('a session ends at its expiry to the millisecond: its access token is refused from then on', async () => {
    const session = await signUp(t.app);
    t.clock.advance(120_000);
    const response = await me(session.auth);
    expect(response.statusCode).toBe(401);
  });

  it('a refresh token is refused at the very millisecond its session ends, though the token itself is younger', async () => {
    const session = await signUp(t.app);
    // Within the minute: the session's expiry is not moved, the new token's expiry is.
    t.clock.advance(30_000);
    const first = await refresh(session.refreshToken);
    expect(first.statusCode).toBe(200);
    t.clock.advance(90_000);
    const late = await refresh(first.json().refresh_token);
    expect(late.statusCode).toBe(401);
    expect(late.json().error).toBe('refresh_token_invalid');
  });

  it("a refresh a whole minute after the last one moves the session's last use and expiry", async () => {
    const session = await signUp(t.app);
    t.clock.advance(60_000);
    const next = await refresh(session.refreshToken);
    expect(next.statusCode).toBe(200);
    const auth = bearer(next.json().access_token);
    const [current] = (await sessionsOf({ auth })).filter((s) => s.current);
    expect(current?.last_used_at).toBe(t.clock.now().toISOString());
    // The expiry moved too: 120 s after this refresh, not after the sign-in.
    t.clock.advance(90_000);
    expect((await refresh(next.json().refresh_token)).statusCode).toBe(200);
  });

  it("another user's live session is not found, and goes on", async () => {
    const owner = await signUp(t.app);
    const stranger = await signUp(t.app);
    const [ownSession] = await sessionsOf(owner);
    const response = await end(stranger, ownSession!.id);
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'not_found', message: 'No such session.' });
    expect((await me(owner.auth)).statusCode).toBe(200);
    expect((await refresh(owner.refreshToken)).statusCode).toBe(200);
  });

  it('a session already ended is not found a second time', async () => {
    const user = await signUp(t.app);
    const other = await login(t.app, (await me(user.auth)).json().username);
    const sessions = await sessionsOf(user);
    const otherSession = sessions.find((s) => !s.current)!;
    expect((await end(user, otherSession.id)).statusCode).toBe(204);
    expect((await me(other.auth)).statusCode).toBe(401);
    const again = await end(user, otherSession.id);
    expect(again.statusCode).toBe(404);
    expect(again.json().error).toBe('not_found');
  });

  it('logout with an unknown refresh token answers 204 like a real one and ends nothing', async () => {
    const user = await signUp(t.app);
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      payload: { refresh_token: 'x'.repeat(43) },
    });
    expect(unknown.statusCode).toBe(204);
    expect((await me(user.auth)).statusCode).toBe(200);
  });

  it('a session ended by another instance (still live in this one’s cache) cannot be reauthenticated into new tokens', async () => {
    const user = await signUp(t.app);
    // This instance has checked the session and holds it as live for a few seconds.
    expect((await me(user.auth)).statusCode).toBe(200);
    await t.database.handle.db
      .updateTable('sessions')
      .set({ revoked_at: t.clock.now().getTime() })
      .where('user_id', '=', user.userId)
      .execute();
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/auth/reauth',
      headers: user.auth,
      payload: { password: PASSWORD },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: 'unauthorized', message: 'The session has ended; sign in again.' });
    expect((await refresh(user.refreshToken)).statusCode).toBe(401);
  });

  it('the sessions list keeps the first 255 characters of a user agent, and none when the client sends none', async () => {
    const user = await signUp(t.app);
    const longAgent = `Agent/${'x'.repeat(300)}`;
    for (const headers of [{ 'user-agent': longAgent }, { 'user-agent': undefined }]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers,
        payload: { username: (await me(user.auth)).json().username, password: PASSWORD },
      });
      expect(response.statusCode).toBe(200);
    }
    const agents = (await sessionsOf(user)).map((s) => s.user_agent);
    expect(agents).toContain(longAgent.slice(0, 255));
    expect(agents).toContain(null);
  });
});
