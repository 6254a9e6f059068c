import type { Kysely, Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDeadlock } from '../../src/db/errors.js';
import type { Database } from '../../src/db/schema.js';
import { transactionWithRetry } from '../../src/db/transaction.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { T0, createMigratedDatabase, digits } from './migrated-database.js';

/** SQLite has one writer: two of its transactions never deadlock, so this is a server suite. */
const dialects = (await testDialects()).filter((dialect) => dialect !== 'sqlite');

/** Resolves once `n` parties have called it: each waits until every other has come this far. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    arrived += 1;
    if (arrived === n) release();
    return all;
  };
}

if (dialects.length === 0) it.skip('transactionWithRetry needs PostgreSQL or MariaDB', () => undefined);

describe.each(dialects)('transactionWithRetry on %s', (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
  });
  afterAll(async () => database?.drop());

  async function newKeys(): Promise<[string, string]> {
    const keys: [string, string] = [`tx_a_${digits()}`, `tx_b_${digits()}`];
    await database.handle.db
      .insertInto('login_lockouts')
      .values(keys.map((key) => ({ lockout_key: key, user_id: null, failed_attempts: 0, failures_expire_at: T0 })))
      .execute();
    return keys;
  }

  /**
   * Two transactions taking the same two rows in opposite orders, each waiting (on its first run)
   * until the other holds its first row: a deadlock by construction, which the database breaks by
   * rolling one of them back.
   */
  function crossedUpdates(
    open: (db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<void>) => Promise<void>,
    [a, b]: [string, string],
  ): { runs: number[]; done: Promise<PromiseSettledResult<void>[]> } {
    const bothHoldOne = barrier(2);
    const runs = [0, 0];
    const bump = (trx: Transaction<Database>, key: string) =>
      trx
        .updateTable('login_lockouts')
        .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
        .where('lockout_key', '=', key)
        .execute();
    const side = (index: number, first: string, second: string) =>
      open(database.handle.db, async (trx) => {
        runs[index] = (runs[index] ?? 0) + 1;
        await bump(trx, first);
        if (runs[index] === 1) await bothHoldOne();
        await bump(trx, second);
      });
    return { runs, done: Promise.allSettled([side(0, a, b), side(1, b, a)]) };
  }

  async function counts([a, b]: [string, string]): Promise<number[]> {
    const rows = await database.handle.db
      .selectFrom('login_lockouts')
      .select(['lockout_key', 'failed_attempts'])
      .where('lockout_key', 'in', [a, b])
      .orderBy('lockout_key')
      .execute();
    return rows.map((row) => row.failed_attempts);
  }

  it('a plain transaction chosen as the deadlock victim fails (the case the helper exists for)', async () => {
    const keys = await newKeys();
    const { done } = crossedUpdates((db, work) => db.transaction().execute(work), keys);
    const results = await done;
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(isDeadlock((rejected[0] as PromiseRejectedResult).reason)).toBe(true);
    expect(await counts(keys)).toEqual([1, 1]);
  });

  it('runs the deadlock victim again from the start: both transactions commit, each once', async () => {
    const keys = await newKeys();
    const { runs, done } = crossedUpdates(transactionWithRetry, keys);
    const results = await done;
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
    // The winner ran once; the victim at least twice (under load PostgreSQL may hand the row back to the victim's new
    // run before the winner, a second deadlock, and a third run: still within the helper's attempts).
    const [fewest, most] = [...runs].sort((x, y) => x - y);
    expect(fewest).toBe(1);
    expect(most).toBeGreaterThanOrEqual(2);
    expect(most).toBeLessThanOrEqual(5);
    // The victim's first run was rolled back: each row counts both transactions exactly once.
    expect(await counts(keys)).toEqual([2, 2]);
  });

  it('does not run a transaction again for any other error, and rolls it back', async () => {
    const [key] = await newKeys();
    let runs = 0;
    await expect(
      transactionWithRetry(database.handle.db, async (trx) => {
        runs += 1;
        await trx.updateTable('login_lockouts').set({ failed_attempts: 9 }).where('lockout_key', '=', key).execute();
        throw new Error('not a deadlock');
      }),
    ).rejects.toThrow('not a deadlock');
    expect(runs).toBe(1);
    const row = await database.handle.db
      .selectFrom('login_lockouts')
      .select('failed_attempts')
      .where('lockout_key', '=', key)
      .executeTakeFirstOrThrow();
    expect(row.failed_attempts).toBe(0);
  });
});
