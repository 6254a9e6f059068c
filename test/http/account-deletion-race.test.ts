import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildTestApp, signUp, uniqueName, type Session, type TestApp } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { deleteOwnAccount } from '../support/deletion.js';

/**
 * The last administrator is never deleted, however the requests race: two administrators deleting
 * themselves at once, or each other at once, leave exactly one administrator (one request wins,
 * the other is refused), on every database.
 */

const dialects = await testDialects();
const ROUNDS = 3;

describe.each(dialects)('the race of the last two administrators on %s', (dialect) => {
  async function adminCount(t: TestApp): Promise<number> {
    const row = await t.database.handle.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role', '=', 'admin')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async function newAdmin(t: TestApp): Promise<Session & { username: string }> {
    const created = await signUp(t.app, uniqueName('racer'));
    await t.database.handle.db.updateTable('users').set({ role: 'admin' }).where('id', '=', created.userId).execute();
    return created;
  }

  function statuses(responses: LightMyRequestResponse[]): string[] {
    return responses.map((r) => (r.statusCode === 204 ? '204' : `${r.statusCode} ${r.json().error}`)).sort();
  }

  it('two administrators deleting themselves at once: one goes, one stays', { timeout: 60_000 }, async () => {
    const t = await buildTestApp({ dialect });
    try {
      let survivor = await newAdmin(t);
      for (let round = 0; round < ROUNDS; round++) {
        const other = await newAdmin(t);
        expect(await adminCount(t)).toBe(2);
        const responses = await Promise.all([survivor, other].map((a) => deleteOwnAccount(t.app, a)));
        expect(statuses(responses)).toEqual(['204', '409 last_admin']);
        expect(await adminCount(t)).toBe(1);
        survivor = responses[0]!.statusCode === 204 ? other : survivor;
      }
    } finally {
      await t.close();
    }
  });

  it('two administrators deleting each other at once: one goes, one stays', { timeout: 60_000 }, async () => {
    const t = await buildTestApp({ dialect });
    try {
      let survivor = await newAdmin(t);
      for (let round = 0; round < ROUNDS; round++) {
        const other = await newAdmin(t);
        expect(await adminCount(t)).toBe(2);
        const responses = await Promise.all(
          [
            [survivor, other],
            [other, survivor],
          ].map(([actor, target]) =>
            t.app.inject({ method: 'DELETE', url: `/api/admin/users/${target!.userId}`, headers: actor!.auth }),
          ),
        );
        // The loser was deleted while its request waited: it is no longer an administrator (403),
        // or no longer has a live session when the waiting started late enough (401).
        const [first, second] = responses.map((r) => r.statusCode);
        expect([first, second].filter((s) => s === 204)).toHaveLength(1);
        expect(statuses(responses).filter((s) => s !== '204')[0]).toMatch(
          /^(403 forbidden|401 unauthorized|409 last_admin)$/,
        );
        expect(await adminCount(t)).toBe(1);
        // survivor deleted other when survivor's request won.
        survivor = first === 204 ? survivor : other;
      }
    } finally {
      await t.close();
    }
  });
});
