import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountsRepository } from '../../src/modules/accounts/accounts.repository.js';
import {
  createLockoutRepository,
  liftEveryLock,
  type LockTarget,
  type LockoutRepository,
} from '../../src/modules/lockout/lockout.repository.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { T0, createMigratedDatabase, digits } from './migrated-database.js';

const dialects = await testDialects();
const POLICY = { threshold: 5, baseSeconds: 60, maxSeconds: 900 };

/**
 * The reservation is the race guard for every instance sharing the database, not only for one
 * process (whose login mutex already serialises): parallel statements here, with no mutex.
 */
describe.each(dialects)('lockout repository on %s', (dialect) => {
  let database: TestDatabase;
  let lockout: LockoutRepository;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
    lockout = createLockoutRepository(database.handle.db, POLICY);
  });
  afterAll(async () => database?.drop());

  async function newUserId(): Promise<number> {
    const username = `lock_${digits()}`;
    return createAccountsRepository(database.handle.db, dialect).insert({
      username,
      email: null,
      passwordHash: 'x',
      role: 'user',
      emailVerified: false,
      nowMs: T0,
    });
  }

  const burst = (target: LockTarget) =>
    Promise.all(Array.from({ length: 20 }, () => lockout.reserveAttempt(target, T0)));

  it('grants exactly the budget to a parallel burst on an unknown name whose row does not exist yet', async () => {
    const target: LockTarget = { kind: 'name', key: `${digits(16)}`.padEnd(64, 'a') };
    expect((await burst(target)).filter(Boolean)).toHaveLength(5);
    expect(await lockout.state(target)).toEqual({ failedAttempts: 5, lockedUntil: T0 + 60_000 });
  });

  it('grants exactly the budget to a parallel burst on a device cookie and on an account', async () => {
    const userId = await newUserId();
    const device: LockTarget = { kind: 'device', userId, key: `${digits(16)}`.padEnd(64, 'b') };
    const account: LockTarget = { kind: 'account', userId };
    const [onDevice, onAccount] = await Promise.all([burst(device), burst(account)]);
    expect(onDevice.filter(Boolean)).toHaveLength(5);
    expect(onAccount.filter(Boolean)).toHaveLength(5);
  });

  it('lifting every lock clears the account and all its device rows, and keeps an administrator lock unless asked', async () => {
    const userId = await newUserId();
    const device: LockTarget = { kind: 'device', userId, key: `${digits(16)}`.padEnd(64, 'c') };
    await burst(device);
    expect(await lockout.state(device)).toMatchObject({ failedAttempts: 5 });
    await database.handle.db
      .updateTable('users')
      .set({ locked_until: Date.UTC(9999, 11, 31, 23, 59, 59, 999), failed_attempts: 3 })
      .where('id', '=', userId)
      .execute();
    await liftEveryLock(database.handle.db, userId, { adminLockToo: false, nowMs: T0 });
    expect(await lockout.state(device)).toBeUndefined();
    expect(await lockout.state({ kind: 'account', userId })).toEqual({
      failedAttempts: 0,
      lockedUntil: Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    });
    await liftEveryLock(database.handle.db, userId, { adminLockToo: true, nowMs: T0 });
    expect(await lockout.state({ kind: 'account', userId })).toEqual({ failedAttempts: 0, lockedUntil: null });
  });
});
