import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  PASSWORD,
  TEST_SECRETS,
  buildTestApp,
  login,
  register,
  uniqueName,
  type Session,
  type TestApp,
} from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { auditRows, bearer } from '../support/two-factor.js';

/**
 * Refresh token rotation: every refresh spends the token it was given and hands out the next one.
 * A spent token never buys anything again; presented later, or by another client, it is a sign
 * that someone holds a copy and the whole session ends (RFC 6819 §5.2.2.3; RFC 9700 §4.14.2).
 * Two requests racing with one token leave exactly one winner on every database: the guarded
 * UPDATE (`... where used_at is null`) decides, not the read before it.
 */

const dialects = await testDialects();

const LAPTOP = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' };
const OTHER_BROWSER = { 'user-agent': 'curl/8.9.1' };
const LAPTOP_IP = '198.51.100.7';
const OTHER_IP = '203.0.113.9';

function statusCounts(responses: LightMyRequestResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.statusCode] = (counts[r.statusCode] ?? 0) + 1;
  return counts;
}

describe.each(dialects)('refresh token rotation on %s', (dialect) => {
  let t: TestApp;
  let noGrace: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
    noGrace = await buildTestApp({ dialect, env: { REFRESH_REUSE_GRACE: '0' } });
  });
  afterAll(async () => {
    await t?.close();
    await noGrace?.close();
  });

  const refresh = (
    app: TestApp,
    refreshToken: string,
    headers: Record<string, string> = LAPTOP,
    remoteAddress = LAPTOP_IP,
  ) =>
    app.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      headers,
      remoteAddress,
      payload: { refresh_token: refreshToken },
    });

  async function freshSession(app: TestApp): Promise<Session> {
    const username = uniqueName('rot');
    await register(app.app, username);
    return login(app.app, username);
  }

  /**
   * A session whose first refresh token has been spent once (by LAPTOP): `spent` is the old token, `current` the new
   * one.
   */
  async function spentOnce(app: TestApp): Promise<{ session: Session; spent: string; current: string }> {
    const session = await freshSession(app);
    const first = await refresh(app, session.refreshToken);
    expect(first.statusCode).toBe(200);
    expect(first.json().refresh_token).not.toBe(session.refreshToken);
    return { session, spent: session.refreshToken, current: first.json().refresh_token };
  }

  function expectInvalid(response: LightMyRequestResponse): void {
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: 'refresh_token_invalid', message: expect.any(String) });
  }

  /** The session is over: its newest refresh token is refused, and so is the access token it was opened with. */
  async function expectSessionEnded(app: TestApp, current: string, session: Session): Promise<void> {
    expectInvalid(await refresh(app, current));
    expect((await app.app.inject({ method: 'GET', url: '/api/user/me', headers: session.auth })).statusCode).toBe(401);
  }

  async function expectSessionAlive(app: TestApp, current: string): Promise<void> {
    const next = await refresh(app, current);
    expect(next.statusCode).toBe(200);
    expect(
      (await app.app.inject({ method: 'GET', url: '/api/user/me', headers: bearer(next.json().access_token) }))
        .statusCode,
    ).toBe(200);
  }

  it('a spent refresh token presented again after the grace window is refused and ends the session', async () => {
    const { session, spent, current } = await spentOnce(t);
    t.clock.advance(2500);
    expectInvalid(await refresh(t, spent));
    await expectSessionEnded(t, current, session);
    // The audit event is written in the background.
    await vi.waitFor(async () =>
      expect(await auditRows(t, session.userId)).toContainEqual(
        expect.objectContaining({ type: 'refresh_token.reused' }),
      ),
    );
  });

  it('a spent refresh token replayed from another client within the grace window is refused and ends the session', async () => {
    for (const [headers, ip] of [
      [OTHER_BROWSER, LAPTOP_IP],
      [LAPTOP, OTHER_IP],
    ] as const) {
      const { session, spent, current } = await spentOnce(t);
      t.clock.advance(500);
      expectInvalid(await refresh(t, spent, headers, ip));
      await expectSessionEnded(t, current, session);
      await vi.waitFor(async () =>
        expect(await auditRows(t, session.userId)).toContainEqual(
          expect.objectContaining({ type: 'refresh_token.reused' }),
        ),
      );
    }
  });

  it('a spent refresh token replayed from the same client within the grace window is refused, but the session lives on', async () => {
    const { session, spent, current } = await spentOnce(t);
    t.clock.advance(500);
    expectInvalid(await refresh(t, spent));
    // Refused every time, not only the first: a duplicate never turns into a fresh token.
    expectInvalid(await refresh(t, spent));
    await expectSessionAlive(t, current);
    expect((await auditRows(t, session.userId)).map((row) => row.type)).not.toContain('refresh_token.reused');
  });

  it('REFRESH_REUSE_GRACE=0 ends the session on any replay, even an immediate one from the same client', async () => {
    const { session, spent, current } = await spentOnce(noGrace);
    expectInvalid(await refresh(noGrace, spent));
    await expectSessionEnded(noGrace, current, session);
  });

  it('a refresh token spent by reauthentication is refused too', async () => {
    const session = await freshSession(t);
    const reauth = await t.app.inject({
      method: 'POST',
      url: '/api/auth/reauth',
      headers: session.auth,
      payload: { password: PASSWORD },
    });
    expect(reauth.statusCode).toBe(200);
    expectInvalid(await refresh(t, session.refreshToken));
  });

  it('two parallel refreshes with one token from one client: exactly one 200, and the session lives on', async () => {
    const session = await freshSession(t);
    const results = await Promise.all([1, 2].map(() => refresh(t, session.refreshToken)));
    expect(statusCounts(results)).toEqual({ 200: 1, 401: 1 });
    expectInvalid(results.find((r) => r.statusCode === 401)!);
    await expectSessionAlive(t, results.find((r) => r.statusCode === 200)!.json().refresh_token);
  });

  it('a burst of 10 parallel refreshes with one token yields exactly one 200 and one new stored token', async () => {
    const session = await freshSession(t);
    const responses = await Promise.all(Array.from({ length: 10 }, () => refresh(t, session.refreshToken)));

    expect(statusCounts(responses)).toEqual({ 200: 1, 401: 9 });
    for (const loser of responses.filter((r) => r.statusCode === 401)) expectInvalid(loser);

    // Exactly one new refresh token was stored for the session, and the old one is spent.
    const tokens = await t.database.handle.db
      .selectFrom('refresh_tokens as r')
      .innerJoin('sessions as s', 's.id', 'r.session_id')
      .select(['r.used_at'])
      .where('s.user_id', '=', session.userId)
      .execute();
    expect(tokens).toHaveLength(2);
    expect(tokens.filter((row) => row.used_at === null)).toHaveLength(1);

    // A concurrent duplicate is not theft: the session lives on and the winner's token works.
    await expectSessionAlive(t, responses.find((r) => r.statusCode === 200)!.json().refresh_token);
  });

  it('two clients racing with one refresh token: exactly one 200, and the session ends', async () => {
    const session = await freshSession(t);
    const results = await Promise.all([
      refresh(t, session.refreshToken, LAPTOP, LAPTOP_IP),
      refresh(t, session.refreshToken, OTHER_BROWSER, OTHER_IP),
    ]);
    // The first UPDATE to commit wins; the other finds the token spent by a different client: theft.
    expect(statusCounts(results)).toEqual({ 200: 1, 401: 1 });
    expectInvalid(results.find((r) => r.statusCode === 401)!);
    await expectSessionEnded(t, results.find((r) => r.statusCode === 200)!.json().refresh_token, session);
  });

  it('refuses a REFRESH_REUSE_GRACE outside 0-60 whole seconds and a REAUTH_MAX_AGE of 0; defaults are 2 and 300', async () => {
    for (const value of ['-1', '61', '1.5', 'soon']) {
      expect(() => loadConfig({ NODE_ENV: 'test', ...TEST_SECRETS, REFRESH_REUSE_GRACE: value })).toThrow(
        /REFRESH_REUSE_GRACE/,
      );
    }
    expect(loadConfig({ NODE_ENV: 'test', ...TEST_SECRETS })).toMatchObject({
      refreshReuseGraceSeconds: 2,
      reauthMaxAgeSeconds: 300,
    });
    expect(() => loadConfig({ NODE_ENV: 'test', ...TEST_SECRETS, REAUTH_MAX_AGE: '0' })).toThrow(/REAUTH_MAX_AGE/);
  });
});
