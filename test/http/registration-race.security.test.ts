import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, register, signUp, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';

/**
 * Concurrency properties that only the database can guarantee: the unique indexes decide
 * registration races, and the guarded UPDATE decides which refresh of one token wins.
 */

const dialects = await testDialects();

function countBy<T>(items: T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

describe.each(dialects)('races on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dialect });
  });
  afterAll(async () => t?.close());

  async function usersWhere(column: 'username_normalized' | 'email_normalized', value: string): Promise<number> {
    const rows = await t.database.handle.db.selectFrom('users').select('id').where(column, '=', value).execute();
    return rows.length;
  }

  it('twenty parallel registrations of one username leave exactly one account', async () => {
    const base = uniqueName('RaceUser');
    const names = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? base : base.toLowerCase()));
    const responses = await Promise.all(names.map((name) => register(t.app, name)));

    const statuses = countBy(responses.map((r) => r.statusCode));
    expect(Object.fromEntries(statuses)).toEqual({ 201: 1, 409: 19 });
    for (const loser of responses.filter((r) => r.statusCode === 409)) {
      expect(loser.json()).toEqual({ error: 'username_taken', message: expect.any(String) });
    }
    expect(await usersWhere('username_normalized', base.toLowerCase())).toBe(1);

    const winner = responses.find((r) => r.statusCode === 201)!.json();
    const signIn = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: base.toUpperCase(), password: PASSWORD } });
    expect(signIn.statusCode).toBe(200);
    expect(signIn.json().user.id).toBe(winner.id);
  });

  it('twenty parallel registrations with one email leave exactly one account', async () => {
    const email = `${uniqueName('race')}@Example.com`;
    const usernames = Array.from({ length: 20 }, () => uniqueName('mail'));
    const responses = await Promise.all(usernames.map((name, i) => register(t.app, name, PASSWORD, i % 2 === 0 ? email : email.toLowerCase())));

    const statuses = countBy(responses.map((r) => r.statusCode));
    expect(Object.fromEntries(statuses)).toEqual({ 201: 1, 409: 19 });
    for (const loser of responses.filter((r) => r.statusCode === 409)) {
      expect(loser.json()).toEqual({ error: 'email_taken', message: expect.any(String) });
    }
    expect(await usersWhere('email_normalized', email.toLowerCase())).toBe(1);
    // The losers left nothing behind under their own usernames either.
    const rows = await t.database.handle.db.selectFrom('users').select('username').where('username', 'in', usernames).execute();
    expect(rows.map((row) => row.username)).toEqual([responses.find((r) => r.statusCode === 201)!.json().username]);
  });

  it('a burst of 10 parallel refreshes with one token yields exactly one 200', async () => {
    const session = await signUp(t.app);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: session.refreshToken } })),
    );

    expect(Object.fromEntries(countBy(responses.map((r) => r.statusCode)))).toEqual({ 200: 1, 401: 9 });
    for (const loser of responses.filter((r) => r.statusCode === 401)) {
      expect(loser.json()).toEqual({ error: 'refresh_token_invalid', message: expect.any(String) });
    }

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
    const winner = responses.find((r) => r.statusCode === 200)!.json();
    expect((await t.app.inject({ url: '/api/user/me', headers: { authorization: `Bearer ${winner.access_token}` } })).statusCode).toBe(200);
    const next = await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: winner.refresh_token } });
    expect(next.statusCode).toBe(200);
  });

  it('parallel registrations of different users all succeed', async () => {
    const names = Array.from({ length: 20 }, () => uniqueName('many'));
    const responses = await Promise.all(names.map((name) => register(t.app, name)));
    expect(responses.map((r) => r.statusCode)).toEqual(names.map(() => 201));
    expect(new Set(responses.map((r) => r.json().id)).size).toBe(20);
  });
});
