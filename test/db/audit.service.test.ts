import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock.js';
import { createAuditRepository, type AuditRepository } from '../../src/modules/audit/audit.repository.js';
import { createAuditService, recordInTransaction } from '../../src/modules/audit/audit.service.js';
import { testDialects } from '../support/databases.js';
import { createMigratedDatabase } from './migrated-database.js';
import type { TestDatabase } from '../support/databases.js';

const dialects = await testDialects();

/** The real repository, counting the INSERTs that reach the database and naming every statement. */
function countingRepository(repository: AuditRepository): AuditRepository & { batches: number[]; calls: string[] } {
  const batches: number[] = [];
  const calls: string[] = [];
  return {
    batches,
    calls,
    list: (query) => repository.list(query),
    deletionsAfter: (afterId) => {
      calls.push('deletionsAfter');
      return repository.deletionsAfter(afterId);
    },
    forgetRequestsOf: (userIds) => {
      calls.push('forgetRequestsOf');
      return repository.forgetRequestsOf(userIds);
    },
    insertMany: async (events) => {
      calls.push('insertMany');
      batches.push(events.length);
      await repository.insertMany(events);
    },
  };
}

describe.each(dialects)('audit trail writes on %s', (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
  });
  afterAll(async () => database?.drop());

  it('writes the events recorded at once in one INSERT, each with its own fields, before record() resolves', async () => {
    const repository = countingRepository(createAuditRepository(database.handle.db));
    const audit = createAuditService({ repository, clock: systemClock, log: undefined });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        audit.record({ type: 'login.succeeded', userId: null, ip: `10.0.0.${i}`, detail: { n: i } }),
      ),
    );
    expect(repository.batches).toEqual([50]);
    const rows = await audit.list({ type: 'login.succeeded', limit: 100 });
    expect(rows).toHaveLength(50);
    expect(new Set(rows.map((row) => row.detail.n)).size).toBe(50);
    expect(rows.find((row) => row.detail.n === 7)?.ip).toBe('10.0.0.7');
  });

  /** The deletion's own event, as the privacy module's transaction writes it. */
  async function writeDeletion(userId: number): Promise<void> {
    const db = database.handle.db;
    await db
      .transaction()
      .execute((trx) =>
        recordInTransaction(trx, [{ type: 'account.deleted', userId, detail: { by: 'self' } }], Date.now()),
      );
  }

  async function requestDataOf(userId: number): Promise<Array<[string, string | null, string | null]>> {
    const rows = await database.handle.db
      .selectFrom('audit_events')
      .select(['type', 'ip', 'user_agent'])
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();
    return rows.map((row) => [row.type, row.ip, row.user_agent]);
  }

  const late = { type: 'login.succeeded' as const, ip: '192.0.2.7', userAgent: 'Late/1.0' };

  it('a flush is its INSERT alone: no query about deleted accounts on the hot path', async () => {
    const repository = countingRepository(createAuditRepository(database.handle.db));
    const audit = createAuditService({ repository, clock: systemClock, log: undefined });
    await Promise.all([1, 2, 3].map((n) => audit.record({ ...late, userId: 700_000 + n })));
    expect(repository.calls).toEqual(['insertMany']);
  });

  it("erases the IP address and browser of an event written after this process deleted the person's account", async () => {
    const userId = 700_100;
    const repository = countingRepository(createAuditRepository(database.handle.db));
    const audit = createAuditService({ repository, clock: systemClock, log: undefined });
    await audit.record({ ...late, userId: 700_101 });
    await writeDeletion(userId);
    await audit.forgetLateRequests(userId);
    await audit.record({ ...late, userId });
    expect(await requestDataOf(userId)).toEqual([
      ['account.deleted', null, null],
      ['login.succeeded', null, null],
    ]);
    // Someone else's event in the same batch keeps its request data.
    await Promise.all([audit.record({ ...late, userId }), audit.record({ ...late, userId: 700_101 })]);
    expect((await requestDataOf(700_101)).map((row) => row[1])).toEqual(['192.0.2.7', '192.0.2.7']);
    expect((await requestDataOf(userId)).filter((row) => row[1] !== null)).toEqual([]);
  });

  it("another instance's late event is erased by this instance's sweep, and its later ones at their flush", async () => {
    const userId = 700_200;
    const deleting = createAuditService({
      repository: createAuditRepository(database.handle.db),
      clock: systemClock,
      log: undefined,
    });
    const repository = countingRepository(createAuditRepository(database.handle.db));
    const other = createAuditService({ repository, clock: systemClock, log: undefined });
    await writeDeletion(userId);
    await deleting.forgetLateRequests(userId);
    // The other instance does not know yet: its late event is written as it came.
    await other.record({ ...late, userId });
    expect((await requestDataOf(userId))[1]).toEqual(['login.succeeded', '192.0.2.7', 'Late/1.0']);
    await other.sweepLateRequests();
    expect(await requestDataOf(userId)).toEqual([
      ['account.deleted', null, null],
      ['login.succeeded', null, null],
    ]);
    repository.calls.length = 0;
    await other.record({ ...late, userId });
    expect(repository.calls).toEqual(['insertMany', 'forgetRequestsOf']);
    expect((await requestDataOf(userId)).filter((row) => row[1] !== null || row[2] !== null)).toEqual([]);
  });

  it('splits a burst larger than one batch and writes every event', async () => {
    const repository = countingRepository(createAuditRepository(database.handle.db));
    const audit = createAuditService({ repository, clock: systemClock, log: undefined });
    await Promise.all(
      Array.from({ length: 450 }, (_, i) =>
        audit.record({ type: 'product.created', userId: null, detail: { product_id: i } }),
      ),
    );
    expect(repository.batches).toEqual([200, 200, 50]);
    expect(await audit.list({ type: 'product.created', limit: 1000 })).toHaveLength(450);
  });

  it('logs a failed write and still resolves: the audit trail never fails the action it records', async () => {
    const broken = await createMigratedDatabase(dialect);
    const logged: unknown[] = [];
    const log = { error: (...args: unknown[]) => logged.push(args) } as never;
    const audit = createAuditService({ repository: createAuditRepository(broken.handle.db), clock: systemClock, log });
    await broken.drop();
    await expect(audit.record({ type: 'mfa.disabled', userId: null })).resolves.toBeUndefined();
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged)).toContain('mfa.disabled');
  });

  it("recordInTransaction writes with the caller's transaction: committed with it, gone when it rolls back, and a failure fails the caller", async () => {
    const db = database.handle.db;
    const at = Date.UTC(2026, 2, 1);
    const event = (n: number) => ({
      type: 'user.imported' as const,
      userId: null,
      ip: null,
      userAgent: 'twofold-cli',
      detail: { source: 'test', action: 'created', n },
    });
    await db.transaction().execute((trx) => recordInTransaction(trx, [event(1), event(2)], at));
    await expect(
      db.transaction().execute(async (trx) => {
        await recordInTransaction(trx, [event(3)], at);
        throw new Error('the batch failed');
      }),
    ).rejects.toThrow('the batch failed');
    const rows = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('type', '=', 'user.imported')
      .orderBy('id')
      .execute();
    expect(rows.map((row) => [row.at, row.user_agent, JSON.parse(row.detail).n])).toEqual([
      [at, 'twofold-cli', 1],
      [at, 'twofold-cli', 2],
    ]);
    const broken = await createMigratedDatabase(dialect);
    await broken.drop();
    await expect(recordInTransaction(broken.handle.db, [event(4)], at)).rejects.toThrow();
  });
});
