import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, buildTestApp, register, uniqueName, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';

/**
 * Concurrency properties that only the database can guarantee: the unique indexes decide
 * registration races. Refresh races are in refresh-rotation.security.test.ts.
 */

const dialects = await testDialects();

function countBy<T>(items: T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

describe.each(dialects)('registration races on %s', (dialect) => {
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
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: base.toUpperCase(), password: PASSWORD },
    });
    expect(signIn.statusCode).toBe(200);
    expect(signIn.json().user.id).toBe(winner.id);
  });

  it('twenty parallel registrations with one email leave exactly one account', async () => {
    const email = `${uniqueName('race')}@Example.com`;
    const usernames = Array.from({ length: 20 }, () => uniqueName('mail'));
    const responses = await Promise.all(
      usernames.map((name, i) => register(t.app, name, PASSWORD, i % 2 === 0 ? email : email.toLowerCase())),
    );

    const statuses = countBy(responses.map((r) => r.statusCode));
    expect(Object.fromEntries(statuses)).toEqual({ 201: 1, 409: 19 });
    for (const loser of responses.filter((r) => r.statusCode === 409)) {
      expect(loser.json()).toEqual({ error: 'email_taken', message: expect.any(String) });
    }
    expect(await usersWhere('email_normalized', email.toLowerCase())).toBe(1);
    // The losers left nothing behind under their own usernames either.
    const rows = await t.database.handle.db
      .selectFrom('users')
      .select('username')
      .where('username', 'in', usernames)
      .execute();
    expect(rows.map((row) => row.username)).toEqual([responses.find((r) => r.statusCode === 201)!.json().username]);
  });

  it('parallel registrations of different users all succeed', async () => {
    const names = Array.from({ length: 20 }, () => uniqueName('many'));
    const responses = await Promise.all(names.map((name) => register(t.app, name)));
    expect(responses.map((r) => r.statusCode)).toEqual(names.map(() => 201));
    expect(new Set(responses.map((r) => r.json().id)).size).toBe(20);
  });
});
